"""The outbox worker: delivers queued writes when their backend can take them.

One pass (``run_once``): ask the outbox which backends have due entries, keep those
``can_deliver`` allows (the facade passes "its breaker is not open"), claim a batch of them and
deliver each in claim order, one at a time, so a backend that is just recovering is not hit by a
burst. A claim holds at most one entry per resource, so order per resource is the outbox's claim
order (see ``resilience.outbox``).

Each delivery ends one of four ways:

- it returns → ``mark_done`` with the result (``OutboxDelivered``);
- ``BreakerOpen`` or ``BulkheadFull`` → the call was never made: ``release`` without counting an
  attempt, due again after the error's ``retry_after`` (``OutboxDeferred``);
- an error ``is_transient`` says may pass → ``mark_failed`` with a delay of
  ``max(backoff(attempt), retry_after_of(error))`` (``OutboxRetryScheduled``), or dead when the
  attempts are used up (``OutboxDeadLettered``);
- any other error is permanent → dead at once (``OutboxDeadLettered``).

After a transient failure the rest of that backend's entries in the batch are released untried
with the same delay: one failure is enough evidence for this pass, and each would otherwise burn
an attempt. ``asyncio.CancelledError`` is never caught: a cancelled delivery stays leased and is
redelivered when the lease lapses (with the same idempotency key).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from resilience.clock import Clock
from resilience.errors import BreakerOpen, BulkheadFull
from resilience.events import Event, EventBus
from resilience.outbox import Outbox
from resilience.outbox_entry import OutboxEntry

__all__ = [
    "OutboxDeadLettered",
    "OutboxDeferred",
    "OutboxDelivered",
    "OutboxRetryScheduled",
    "OutboxWorker",
    "exponential_backoff",
]

log = structlog.get_logger("veneer.outbox")

_NOT_ATTEMPTED = (BreakerOpen, BulkheadFull)


@dataclass(frozen=True, slots=True)
class OutboxDelivered(Event):
    id: str
    backend: str
    operation: str
    attempts: int  # failed attempts before this one
    duration_s: float


@dataclass(frozen=True, slots=True)
class OutboxRetryScheduled(Event):
    id: str
    backend: str
    operation: str
    attempts: int
    delay_s: float
    error: str


@dataclass(frozen=True, slots=True)
class OutboxDeadLettered(Event):
    id: str
    backend: str
    operation: str
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class OutboxDeferred(Event):
    id: str
    backend: str
    operation: str
    delay_s: float
    reason: str


def exponential_backoff(base: float = 1.0, cap: float = 300.0) -> Callable[[int], float]:
    """Delay before retry after failed attempt ``n``: ``base * 2**(n-1)`` capped, with equal
    jitter (half fixed, half random), so queued writes to one backend do not retry in lockstep."""

    def delay(attempt: int) -> float:
        ceiling = min(cap, base * 2 ** max(0, attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    return delay


def _retry_after_attribute(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        deliver: Callable[[OutboxEntry], Awaitable[Any]],
        *,
        clock: Clock,
        events: EventBus,
        is_transient: Callable[[BaseException], bool],
        can_deliver: Callable[[str], bool] = lambda backend: True,
        retry_after_of: Callable[[BaseException], float | None] = _retry_after_attribute,
        backoff: Callable[[int], float] | None = None,
        poll_s: float = 0.5,
        batch: int = 10,
        lease_s: float = 60.0,
    ) -> None:
        self._outbox = outbox
        self._deliver = deliver
        self._clock = clock
        self._events = events
        self._is_transient = is_transient
        self._can_deliver = can_deliver
        self._retry_after_of = retry_after_of
        self._backoff = backoff or exponential_backoff()
        self._poll_s = poll_s
        self._batch = batch
        self._lease_s = lease_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: asyncio.Future[None] | None = None
        self._drained_full_batch = False

    async def run_once(self) -> int:
        """One pass; returns how many entries were claimed (delivered, failed or released)."""
        self._drained_full_batch = False
        backends = {b for b in await self._outbox.due_backends() if self._can_deliver(b)}
        if not backends:
            return 0
        entries = await self._outbox.claim(
            backends=backends, limit=self._batch, lease_s=self._lease_s
        )
        paused: dict[str, float] = {}  # backend → delay, after a transient failure this pass
        delivered = 0
        for entry in entries:
            if entry.backend in paused:
                await self._defer(entry, paused[entry.backend], "backend failed earlier this pass")
            elif not self._can_deliver(entry.backend):
                await self._defer(entry, self._poll_s, "backend cannot take calls")
            elif (delay := await self._deliver_one(entry)) is None:
                delivered += 1
            elif delay > 0:
                paused[entry.backend] = delay
        self._drained_full_batch = delivered == self._batch
        return len(entries)

    async def run(self) -> None:
        """Pass after pass until ``stop``: straight on after a full successful batch, otherwise
        after ``poll_s`` or a ``wake``. A failing pass (the store down) is logged, not fatal."""
        if self._running is not None:
            raise RuntimeError("this outbox worker is already running")
        self._running = asyncio.get_running_loop().create_future()
        self._stopping = False
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.run_once()
                except Exception:
                    log.exception("outbox pass failed")
                    self._drained_full_batch = False
                if self._stopping or self._drained_full_batch:
                    continue
                await self._idle()
        finally:
            self._running.set_result(None)
            self._running = None

    def wake(self) -> None:
        """Start the next pass now (call after ``enqueue``)."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the current delivery, then leave ``run``."""
        self._stopping = True
        self._wake.set()
        if self._running is not None:
            await asyncio.shield(self._running)

    async def _idle(self) -> None:
        sleeper = asyncio.ensure_future(self._clock.sleep(self._poll_s))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _deliver_one(self, entry: OutboxEntry) -> float | None:
        """Deliver; None when done, else the delay before this backend should be tried again
        (0 when the failure says nothing about the backend's health: permanent or dead)."""
        started = self._clock.monotonic()
        try:
            result = await self._deliver(entry)
        except _NOT_ATTEMPTED as exc:
            delay = exc.retry_after if exc.retry_after is not None else self._poll_s
            await self._defer(entry, delay, _describe(exc))
            return delay
        except Exception as exc:
            return await self._failed(entry, exc)
        await self._outbox.mark_done(entry.id, result)
        self._publish(
            OutboxDelivered,
            entry,
            attempts=entry.attempts,
            duration_s=self._clock.monotonic() - started,
        )
        return None

    async def _failed(self, entry: OutboxEntry, exc: Exception) -> float:
        error = _describe(exc)
        if not self._is_transient(exc):
            updated = await self._outbox.mark_failed(entry.id, error=error, retry_in_s=None)
            self._publish(OutboxDeadLettered, entry, attempts=updated.attempts, error=error)
            return 0.0
        delay = max(self._backoff(entry.attempts + 1), self._retry_after_of(exc) or 0.0)
        updated = await self._outbox.mark_failed(entry.id, error=error, retry_in_s=delay)
        if updated.status == "dead":
            self._publish(OutboxDeadLettered, entry, attempts=updated.attempts, error=error)
        else:
            self._publish(
                OutboxRetryScheduled, entry, attempts=updated.attempts, delay_s=delay, error=error
            )
        return delay

    async def _defer(self, entry: OutboxEntry, delay: float, reason: str) -> None:
        await self._outbox.release(entry.id, retry_in_s=delay)
        self._publish(OutboxDeferred, entry, delay_s=delay, reason=reason)

    def _publish(self, kind: type[Event], entry: OutboxEntry, **fields: Any) -> None:
        self._events.publish(
            kind(  # type: ignore[call-arg]
                at=self._clock.monotonic(),
                id=entry.id,
                backend=entry.backend,
                operation=entry.operation,
                **fields,
            )
        )
