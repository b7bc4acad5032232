"""Single-flight: concurrent calls for one key share one backend call.

When a popular entry is missing from the cache, a hundred clients ask for it at once; without this
the backend gets a hundred identical calls exactly when it is cold. The first caller for a key
starts the call in a task of its own; later callers for the key await that same task, and all of
them get its result, or its exception (the same object, raised in each).

Each caller waits through ``asyncio.shield``: one caller cancelled (a client hung up) leaves the
call running for the others; when the last caller is cancelled, nobody wants the answer and the
call is cancelled too. A key is free again the moment its call ends: results are not kept (that
is the cache's job), and a caller arriving after the end starts a new call.

The shared call runs in a copy of the first caller's context (its request id is the one logged)
and under whatever deadline that caller built into ``fn``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class _Flight(Generic[T]):
    """One shared call and the number of callers still waiting for it."""

    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Future[T]) -> None:
        self.task = task
        self.waiters = 0


class SingleFlight(Generic[K, T]):
    """Deduplicates concurrent calls by key; one instance per kind of call (e.g. per route)."""

    def __init__(self) -> None:
        self._flights: dict[K, _Flight[T]] = {}

    def in_flight(self, key: K) -> bool:
        """Whether a call for ``key`` is running now."""
        flight = self._flights.get(key)
        return flight is not None and not flight.task.done()

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: K, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()``, or the call already running for ``key`` (then ``fn`` is not called)."""
        flight = self._flights.get(key)
        if flight is None or flight.task.done():
            flight = self._start(key, fn)
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # Every caller left (all cancelled): nobody wants the answer. Free the key now, so
                # a new caller starts afresh instead of joining a call being cancelled.
                self._forget(key, flight)
                flight.task.cancel()

    def _start(self, key: K, fn: Callable[[], Awaitable[T]]) -> _Flight[T]:
        task: asyncio.Future[T] = asyncio.ensure_future(fn())
        flight = _Flight(task)
        self._flights[key] = flight
        task.add_done_callback(lambda done: self._finished(key, flight, done))
        return flight

    def _finished(self, key: K, flight: _Flight[T], task: asyncio.Future[T]) -> None:
        self._forget(key, flight)
        if not task.cancelled():
            task.exception()  # retrieved: it reached every waiter (or nobody was left to care)

    def _forget(self, key: K, flight: _Flight[T]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
