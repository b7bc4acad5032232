"""The breaker's sliding window: how many of the recent calls failed, and how many were slow.

Two shapes, as in resilience4j. A *count* window holds the last N outcomes in a ring. A *time*
window holds one bucket per whole second of the last N seconds, so its memory is fixed however
many calls a second a backend takes; a call falls out between N-1 and N seconds after it was
recorded (the bucket granularity). Both keep running totals, so recording and reading are O(1)
(amortised: a time window clears the buckets the clock has passed when it is next touched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from resilience.breaker import BreakerConfig

__all__ = ["CountWindow", "SlidingWindow", "TimeWindow", "WindowTotals", "make_window"]

_FAILED = 1
_SLOW = 2


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """What the window holds now. ``failures`` includes slow calls (a slow call counts as failed)."""

    calls: int
    failures: int
    slow: int

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


class SlidingWindow(Protocol):
    def record(self, at: float, *, failed: bool, slow: bool) -> None:
        """Add one finished call, at the clock's monotonic time ``at``."""

    def totals(self, now: float) -> WindowTotals:
        """The calls still inside the window at monotonic time ``now``."""

    def failing(self) -> bool:
        """Whether any failed call was recorded and not forgotten yet (without looking at the
        time: a call past a time window's end may still count). No failure, no failure rate."""

    def reset(self) -> None:
        """Forget every call (the breaker closed, or was reset by an operator)."""


class CountWindow:
    """The last ``size`` calls, whenever they happened."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ring = [0] * size
        self._next = 0
        self._filled = 0
        self._failures = 0
        self._slow = 0

    def record(self, at: float, *, failed: bool, slow: bool) -> None:
        if self._filled == self._size:
            self._forget(self._ring[self._next])
        else:
            self._filled += 1
        code = (_FAILED if failed or slow else 0) | (_SLOW if slow else 0)
        self._ring[self._next] = code
        self._next = (self._next + 1) % self._size
        self._failures += code & _FAILED
        self._slow += (code & _SLOW) >> 1

    def totals(self, now: float) -> WindowTotals:
        return WindowTotals(self._filled, self._failures, self._slow)

    def failing(self) -> bool:
        return self._failures > 0

    def reset(self) -> None:
        self._ring = [0] * self._size
        self._next = self._filled = self._failures = self._slow = 0

    def _forget(self, code: int) -> None:
        self._failures -= code & _FAILED
        self._slow -= (code & _SLOW) >> 1


class TimeWindow:
    """The calls of the last ``seconds`` whole seconds, in one-second buckets."""

    def __init__(self, seconds: int) -> None:
        self._size = seconds
        self._calls = [0] * seconds
        self._failed = [0] * seconds
        self._slowed = [0] * seconds
        self._head: int | None = None  # the newest second the buckets describe
        self._totals = [0, 0, 0]

    def record(self, at: float, *, failed: bool, slow: bool) -> None:
        self._advance(at)
        i = math.floor(at) % self._size
        failed = failed or slow
        self._calls[i] += 1
        self._failed[i] += failed
        self._slowed[i] += slow
        self._totals[0] += 1
        self._totals[1] += failed
        self._totals[2] += slow

    def totals(self, now: float) -> WindowTotals:
        self._advance(now)
        calls, failures, slow = self._totals
        return WindowTotals(calls, failures, slow)

    def failing(self) -> bool:
        return self._totals[1] > 0

    def reset(self) -> None:
        size = self._size
        self._calls, self._failed, self._slowed = [0] * size, [0] * size, [0] * size
        self._totals = [0, 0, 0]
        self._head = None

    def _advance(self, now: float) -> None:
        """Empty the buckets of the seconds that have left the window since the last touch."""
        second = math.floor(now)
        head = self._head
        if head is not None and second <= head:
            return
        if head is None or second - head >= self._size:
            self.reset()
        else:
            for passed in range(head + 1, second + 1):
                i = passed % self._size
                self._totals[0] -= self._calls[i]
                self._totals[1] -= self._failed[i]
                self._totals[2] -= self._slowed[i]
                self._calls[i] = self._failed[i] = self._slowed[i] = 0
        self._head = second


def make_window(config: BreakerConfig) -> SlidingWindow:
    if config.window == "time":
        return TimeWindow(config.window_size)
    return CountWindow(config.window_size)
