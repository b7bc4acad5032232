"""Shared pieces of the breaker tests: a breaker on a FakeClock, its events, canned calls."""

from __future__ import annotations

import contextlib
from typing import Any

from resilience.breaker import CircuitBreaker
from resilience.breaker_config import BreakerConfig
from resilience.clock import FakeClock
from resilience.errors import BreakerOpen
from resilience.events import BreakerTransition, CallOutcome, EventBus


class Transient(Exception):
    """Stands for a transient backend error (counts against the breaker)."""


class BusinessFault(Exception):
    """Stands for a backend's business fault (the backend answered; does not count)."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, Transient)


class Harness:
    """A breaker on a FakeClock with every event it publishes."""

    def __init__(self, **config: Any) -> None:
        self.clock = FakeClock()
        self.bus = EventBus()
        self.events: list[Any] = []
        self.bus.subscribe(self.events.append)
        self.config = BreakerConfig(**config)
        self.breaker = CircuitBreaker(
            "erp", self.config, clock=self.clock, events=self.bus, is_failure=is_transient
        )
        self.calls = 0

    @property
    def transitions(self) -> list[tuple[str, str]]:
        return [(e.before, e.after) for e in self.events if isinstance(e, BreakerTransition)]

    @property
    def outcomes(self) -> list[str]:
        return [e.outcome for e in self.events if isinstance(e, CallOutcome)]

    async def succeed(self, *, taking: float = 0.0) -> str:
        async def fn() -> str:
            self.calls += 1
            self.clock.advance(taking)
            return "ok"

        return await self.breaker.call(fn)

    async def fail(self, exc: Exception | None = None, *, times: int = 1) -> None:
        async def fn() -> str:
            self.calls += 1
            raise exc or Transient("connection refused")

        for _ in range(times):
            with contextlib.suppress(Transient, BusinessFault):
                await self.breaker.call(fn)

    async def rejected(self) -> BreakerOpen:
        """Make a call that must be rejected, and return the rejection."""
        before = self.calls
        try:
            await self.succeed()
        except BreakerOpen as exc:
            assert self.calls == before, "a rejected call must not reach the backend"
            return exc
        raise AssertionError("the call was let through")

    async def trip(self) -> None:
        """Open the breaker with consecutive failures."""
        await self.fail(times=self.config.consecutive_failures)
        assert self.breaker.state == "open"
