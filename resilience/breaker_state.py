"""What a breaker shows the outside: its states and a point-in-time snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["BreakerSnapshot", "BreakerState"]


class BreakerState(StrEnum):
    """The three automatic states, then the three an operator sets by hand."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    FORCED_OPEN = "forced_open"
    FORCED_CLOSED = "forced_closed"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """One breaker at one instant, for the ops API and the dashboard.

    ``calls``/``failures``/``slow_calls`` are what the sliding window holds now (``failures``
    includes slow calls). ``opened_at`` is set while the automatic machine is open or half-open.
    ``next_trial_at`` is when calls will be let through again: the end of the open period, or the
    end of a forced-open TTL. ``retry_after`` is the same as seconds from now, as a 503 tells it.
    """

    name: str
    state: BreakerState
    calls: int
    failures: int
    slow_calls: int
    failure_rate: float
    consecutive_failures: int
    opened_at: datetime | None
    next_trial_at: datetime | None
    retry_after: float | None
    trial_in_flight: bool
    forced: BreakerState | None
    forced_until: datetime | None
    forced_reason: str
    forced_by: str
