"""Retry budget: retries to one backend stay a bounded share of the calls made to it.

Per-call attempt caps do not protect a failing backend: at 3 attempts every call triples the load
exactly when the backend can least take it. A budget (as in Finagle and the gRPC retry throttle)
caps retries across all callers: over a sliding window, retries may be at most ``ratio`` * calls,
plus ``min_retries`` so a quiet backend can still retry a one-off blip.

The window slides in ``buckets`` steps (counts per bucket, not one timestamp per call), so memory
and cost stay constant at any request rate; a call counts for between ``window·(1 - 1/buckets)``
and ``window`` seconds.
"""

from __future__ import annotations

import math
from collections import deque

from resilience.clock import Clock

__all__ = ["RetryBudget"]

# Absorbs float error in ratio * calls (0.1 * 30 is 3.0000000000000004, which must allow 3).
_EPSILON = 1e-9


class RetryBudget:
    """How many retries a backend may still take; one per backend, shared by all its callers."""

    def __init__(
        self,
        ratio: float,
        window_s: float,
        *,
        clock: Clock,
        min_retries: int = 3,
        buckets: int = 10,
    ) -> None:
        if not 0 <= ratio <= 1:
            raise ValueError(f"ratio must be within [0, 1], not {ratio!r}")
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, not {window_s!r}")
        if min_retries < 0 or buckets < 1:
            raise ValueError("min_retries must be >= 0 and buckets >= 1")
        self.ratio = ratio
        self.window_s = window_s
        self.min_retries = min_retries
        self._clock = clock
        self._bucket_s = window_s / buckets
        self._buckets = buckets
        # [bucket index, calls, retries], oldest first; at most `buckets` entries.
        self._window: deque[list[int]] = deque()
        self._calls = 0
        self._retries = 0

    def record_call(self) -> None:
        """Count one call (not one attempt): it earns ``ratio`` of a retry."""
        self._current()[1] += 1
        self._calls += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; ``False`` (and nothing taken) when it is used up."""
        bucket = self._current()
        if self._retries >= self.min_retries + math.floor(self.ratio * self._calls + _EPSILON):
            return False
        bucket[2] += 1
        self._retries += 1
        return True

    @property
    def calls(self) -> int:
        """Calls counted in the current window."""
        self._slide()
        return self._calls

    @property
    def retries(self) -> int:
        """Retries spent in the current window."""
        self._slide()
        return self._retries

    def _current(self) -> list[int]:
        index = self._slide()
        if self._window and self._window[-1][0] == index:
            return self._window[-1]
        bucket = [index, 0, 0]
        self._window.append(bucket)
        return bucket

    def _slide(self) -> int:
        """Drop buckets that left the window; return the current bucket's index."""
        index = math.floor(self._clock.monotonic() / self._bucket_s)
        oldest_kept = index - self._buckets + 1
        while self._window and self._window[0][0] < oldest_kept:
            _, calls, retries = self._window.popleft()
            self._calls -= calls
            self._retries -= retries
        return index

    def __repr__(self) -> str:
        return (
            f"RetryBudget(ratio={self.ratio}, window_s={self.window_s}, "
            f"calls={self.calls}, retries={self.retries})"
        )
