"""Errors the resilience layer raises itself (the backend was not called, or not again).

::

    ResilienceError
    ├── BreakerOpen          the breaker refuses calls; retry_after = seconds to the next trial
    ├── BulkheadFull         no free slot within the bounded wait
    └── DeadlineExceeded     the route's total deadline ran out (before or between attempts)
"""

from __future__ import annotations

__all__ = ["BreakerOpen", "BulkheadFull", "DeadlineExceeded", "ResilienceError"]


class ResilienceError(Exception):
    def __init__(self, message: str, *, name: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.retry_after = retry_after


class BreakerOpen(ResilienceError):
    """The breaker is open (or forced open); the call was not made."""


class BulkheadFull(ResilienceError):
    """Too many calls in flight to this backend; the call was not made."""


class DeadlineExceeded(ResilienceError):
    """The route's deadline passed; no further attempt is made."""
