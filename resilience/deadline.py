"""A route's total deadline: one instant every layer of a call measures itself against.

A route's deadline is fixed once, when the request arrives, and handed down: the bulkhead waits
no longer than what is left of it, the retrier never starts an attempt it could not finish
before it, and each attempt's timeout is ``deadline.cap(per_attempt_timeout)``. Keeping the
instant (not a duration) means time spent in one layer is automatically gone for the next.
"""

from __future__ import annotations

import math

from resilience.clock import Clock
from resilience.errors import DeadlineExceeded

__all__ = ["Deadline"]


class Deadline:
    """An instant on ``clock.monotonic()`` after which no more work is started; ``None``: no limit."""

    __slots__ = ("_clock", "at")

    def __init__(self, clock: Clock, seconds: float | None) -> None:
        if seconds is not None and (math.isnan(seconds) or seconds < 0):
            raise ValueError(f"a deadline needs seconds >= 0 or None, not {seconds!r}")
        self._clock = clock
        self.at: float | None = None if seconds is None else clock.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` when there is no deadline."""
        if self.at is None:
            return None
        return max(0.0, self.at - self._clock.monotonic())

    def expired(self) -> bool:
        return self.at is not None and self._clock.monotonic() >= self.at

    def cap(self, timeout: float | None) -> float | None:
        """The smaller of ``timeout`` and the time left; ``None`` only when both are unlimited."""
        left = self.remaining()
        if left is None:
            return timeout
        if timeout is None:
            return left
        return min(timeout, left)

    def check(self, name: str = "") -> None:
        """Raise :class:`DeadlineExceeded` if the deadline has passed (before starting work)."""
        if self.expired():
            raise DeadlineExceeded(
                f"deadline passed before calling {name or 'the backend'}", name=name
            )

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining()!r})"
