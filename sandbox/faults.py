"""Live fault injection for the sandbox systems.

Each sandbox system owns one :class:`FaultSwitch`. The control API flips it; the system's server
asks it, once per request, what to do with that request. The modes are the ways real legacy
systems fail in production:

- ``down``: the port refuses connections (the server stops listening);
- ``hang``: connections are accepted, requests are read, and no answer ever comes;
- ``slow:<ms>``: every answer is delayed by that many milliseconds;
- ``error_rate:<0..1>``: that fraction of requests gets the system's own transient error;
- ``garbage``: replies are malformed bytes in the system's content type;
- ``drop_session``: every open session is ended under its client (systems with sessions only);
- ``reset``: back to normal service.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Fault", "FaultError", "FaultKind", "FaultSwitch", "Verdict"]


class FaultError(ValueError):
    """A fault mode string that does not parse, or a mode the system does not support."""


class FaultKind(enum.StrEnum):
    NONE = "none"
    DOWN = "down"
    HANG = "hang"
    SLOW = "slow"
    ERROR_RATE = "error_rate"
    GARBAGE = "garbage"
    DROP_SESSION = "drop_session"


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault mode, parsed from its textual form (``slow:250``, ``error_rate:0.3`` ...)."""

    kind: FaultKind = FaultKind.NONE
    slow_ms: int = 0
    error_rate: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Fault:
        name, _, arg = text.strip().partition(":")
        name = name.strip().lower()
        if name in {"reset", "none", ""}:
            return cls()
        if name == FaultKind.SLOW:
            try:
                ms = int(arg)
            except ValueError:
                raise FaultError(
                    f"slow needs whole milliseconds, as in slow:250, got {text!r}"
                ) from None
            if ms < 0:
                raise FaultError(f"slow needs a non-negative delay, got {ms}")
            return cls(FaultKind.SLOW, slow_ms=ms)
        if name == FaultKind.ERROR_RATE:
            try:
                rate = float(arg)
            except ValueError:
                raise FaultError(
                    f"error_rate needs a fraction, as in error_rate:0.3, got {text!r}"
                ) from None
            if not 0.0 <= rate <= 1.0:
                raise FaultError(f"error_rate needs a fraction between 0 and 1, got {rate}")
            return cls(FaultKind.ERROR_RATE, error_rate=rate)
        try:
            kind = FaultKind(name)
        except ValueError:
            known = "down, hang, slow:<ms>, error_rate:<0..1>, garbage, drop_session, reset"
            raise FaultError(f"unknown fault mode {text!r}; known modes: {known}") from None
        if arg:
            raise FaultError(f"fault mode {name!r} takes no argument, got {text!r}")
        return cls(kind)

    def __str__(self) -> str:
        if self.kind is FaultKind.SLOW:
            return f"slow:{self.slow_ms}"
        if self.kind is FaultKind.ERROR_RATE:
            return f"error_rate:{self.error_rate:g}"
        return self.kind.value


class Verdict(enum.Enum):
    """What a server does with the request it just read."""

    ANSWER = "answer"  # serve it normally
    ERROR = "error"  # answer with the system's transient error
    GARBAGE = "garbage"  # answer with malformed bytes


Hook = Callable[[Fault, Fault], Awaitable[None]]


class FaultSwitch:
    """The live fault state of one sandbox system, plus its request counter."""

    def __init__(
        self, system: str, *, supports_sessions: bool = False, rng: random.Random | None = None
    ) -> None:
        self.system = system
        self.supports_sessions = supports_sessions
        self.fault = Fault()
        self.requests = 0
        self._rng = rng or random.Random()
        self._hooks: list[Hook] = []
        self._changed = asyncio.Event()

    def on_change(self, hook: Hook) -> None:
        """Call ``hook(old, new)`` after every change (servers stop listening on ``down`` here)."""
        self._hooks.append(hook)

    async def set(self, fault: Fault) -> None:
        if fault.kind is FaultKind.DROP_SESSION and not self.supports_sessions:
            raise FaultError(f"{self.system} has no sessions to drop")
        old, self.fault = self.fault, fault
        self._changed.set()
        self._changed = asyncio.Event()
        for hook in self._hooks:
            await hook(old, fault)

    async def verdict(self) -> Verdict:
        """Count one request and decide its fate; waits while the system hangs or is slow."""
        self.requests += 1
        while self.fault.kind is FaultKind.HANG:
            await self._changed.wait()
        fault = self.fault
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.slow_ms / 1000)
        elif fault.kind is FaultKind.ERROR_RATE and self._rng.random() < fault.error_rate:
            return Verdict.ERROR
        elif fault.kind is FaultKind.GARBAGE:
            return Verdict.GARBAGE
        return Verdict.ANSWER

    def describe(self) -> dict[str, object]:
        return {"mode": str(self.fault), "requests": self.requests}
