"""Time, injected: every resilience primitive reads the clock it is given, so tests never sleep."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations and deadlines)."""

    def now(self) -> datetime:
        """The current UTC time, timezone-aware (for records that outlive the process)."""

    def time(self) -> float:
        """:meth:`now` as POSIX seconds (cheaper to read and compare on a hot path)."""

    async def sleep(self, seconds: float) -> None:
        """Wait; a fake clock advances instead of waiting."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock tests move by hand. ``sleep`` advances time and yields once to the loop."""

    def __init__(self, start: datetime | None = None) -> None:
        self._monotonic = 1000.0
        self._start = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic - 1000.0)

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._monotonic += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
