"""Bulkhead: a cap on concurrent calls per backend, with a bounded wait for a free slot.

A backend that slows down must not take every connection and task the gateway has: each backend
gets ``max_concurrent`` slots. A caller that finds none free waits at most ``max_wait`` (and never
past its deadline) for one, then gets :class:`~resilience.errors.BulkheadFull` (a 503), so the
gateway sheds load instead of queueing it.

How the wait is bounded: a freed slot is handed directly to the oldest waiter's future (so a
newcomer cannot overtake it), and the wait is raced against a timer whose end resolves the
waiter as "timed out": with the system clock a loop timer (``call_later``, exact and cheap), with
any other clock ``clock.sleep(max_wait)`` in a small task, which ``FakeClock`` tests drive
without sleeping. ``max_wait = 0`` rejects at
once without awaiting, and the uncontended path takes a slot without awaiting either.

Cancellation never leaks a slot: a waiter cancelled after a slot was handed to it passes the slot
on, and a holder cancelled inside ``async with`` releases it on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

from resilience.clock import Clock, SystemClock
from resilience.deadline import Deadline
from resilience.errors import BulkheadFull
from resilience.events import BulkheadRejected, EventBus

__all__ = ["Bulkhead", "BulkheadConfig"]


@dataclass(frozen=True, kw_only=True, slots=True)
class BulkheadConfig:
    """How many calls one backend may have in flight, and how long a caller waits for a slot."""

    max_concurrent: int = field(default=32, metadata={"ge": 1, "help": "calls in flight at once"})
    max_wait: float = field(
        default=0.25,
        metadata={"unit": "seconds", "ge": 0, "help": "wait for a free slot before 503"},
    )


class Bulkhead:
    """Slots for one backend's concurrent calls: ``async with bulkhead.slot(deadline): ...``."""

    def __init__(
        self, name: str, config: BulkheadConfig, *, clock: Clock, events: EventBus
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._events = events
        self._in_flight = 0
        # Futures of callers waiting for a slot, oldest first; True = a slot was handed over.
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def in_flight(self) -> int:
        """Slots taken (including one handed to a waiter that has not resumed yet)."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return len(self._waiters)

    def slot(self, deadline: Deadline | None = None) -> _Slot:
        """An async context manager holding one slot; entering it may raise ``BulkheadFull``."""
        return _Slot(self, deadline)

    def take(self) -> bool:
        """Take a free slot without waiting; False when none is free (then :meth:`acquire`).
        A slot taken is given back with :meth:`release`, whatever happens."""
        if self._in_flight < self.config.max_concurrent:
            self._in_flight += 1
            return True
        return False

    async def acquire(self, deadline: Deadline | None) -> None:
        """Take a slot, waiting for one as configured; raises ``BulkheadFull`` if none came."""
        if not self.take():
            await self._wait(deadline)

    def release(self) -> None:
        """Give a slot back: to the oldest waiter, or free."""
        self._release()

    async def _wait(self, deadline: Deadline | None) -> None:
        max_wait = self.config.max_wait
        left = deadline.remaining() if deadline is not None else None
        if left is not None:
            max_wait = min(max_wait, left)
        if max_wait <= 0:
            self._reject()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer: asyncio.Future[None] | asyncio.TimerHandle
        if type(self._clock) is SystemClock:
            # A loop timer: under load half the calls may wait, and a task per wait (created,
            # stepped, cancelled) cost more than the wait's bookkeeping itself.
            timer = loop.call_later(max_wait, _expire, waiter)
        else:  # an injected clock: its sleep is what tests drive (a fake clock advances)
            timer = asyncio.ensure_future(self._clock.sleep(max_wait))
            timer.add_done_callback(functools.partial(_time_out, waiter))
        granted = False
        try:
            granted = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._release()  # handed a slot, but cancelled before using it: pass it on
            raise
        finally:
            timer.cancel()
            if not granted:
                self._discard(waiter)
        if not granted:
            self._reject()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)  # the slot changes hands; in_flight stays
                return
        self._in_flight -= 1

    def _discard(self, waiter: asyncio.Future[bool]) -> None:
        with contextlib.suppress(ValueError):  # already handed a slot and popped
            self._waiters.remove(waiter)

    def _reject(self) -> None:
        self._events.publish(
            BulkheadRejected(at=self._clock.monotonic(), name=self.name, in_flight=self._in_flight)
        )
        raise BulkheadFull(
            f"{self.name}: {self._in_flight} calls in flight, no slot free within the wait",
            name=self.name,
            retry_after=self.config.max_wait,
        )

    def __repr__(self) -> str:
        return (
            f"Bulkhead({self.name!r}, in_flight={self._in_flight}/"
            f"{self.config.max_concurrent}, waiting={self.waiting})"
        )


def _expire(waiter: asyncio.Future[bool]) -> None:
    """The wait is over (a loop timer fired): not granted, unless it was granted meanwhile."""
    if not waiter.done():
        waiter.set_result(False)


def _time_out(waiter: asyncio.Future[bool], timer: asyncio.Future[None]) -> None:
    """The wait is over: resolve the waiter as not granted, unless it was granted meanwhile."""
    if not timer.cancelled() and not waiter.done():
        waiter.set_result(False)


class _Slot:
    """One use of a slot; released on exit whatever happened inside, cancellation included."""

    __slots__ = ("_bulkhead", "_deadline")

    def __init__(self, bulkhead: Bulkhead, deadline: Deadline | None) -> None:
        self._bulkhead = bulkhead
        self._deadline = deadline

    async def __aenter__(self) -> None:
        await self._bulkhead.acquire(self._deadline)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bulkhead.release()
