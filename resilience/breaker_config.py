"""Circuit breaker configuration: when a backend's breaker opens, and for how long.

Frozen and validated at load: the field metadata is the configuration schema (help text, bounds,
units), and ``__post_init__`` checks the rules that span fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BreakerConfig"]


@dataclass(frozen=True, kw_only=True, slots=True)
class BreakerConfig:
    """When a backend's breaker opens, and for how long it stays open."""

    consecutive_failures: int = field(
        default=5, metadata={"ge": 1, "help": "open after this many transient failures in a row"}
    )
    failure_rate: float = field(
        default=0.5,
        metadata={"gt": 0, "le": 1, "help": "open when this share of windowed calls fail"},
    )
    window: Literal["count", "time"] = field(
        default="count",
        metadata={"help": "sliding window over the last N calls, or the last N seconds"},
    )
    window_size: int = field(
        default=20, metadata={"ge": 1, "help": "calls (count window) or seconds (time window)"}
    )
    minimum_calls: int = field(
        default=10,
        metadata={"ge": 1, "help": "no rate decision before this many calls in the window"},
    )
    slow_call: float | None = field(
        default=None,
        metadata={"unit": "seconds", "gt": 0, "help": "a call slower than this counts as failed"},
    )
    open_for: float = field(
        default=30.0,
        metadata={
            "unit": "seconds",
            "gt": 0,
            "help": "how long it stays open before one trial call",
        },
    )
    per_operation: bool = field(
        default=False, metadata={"help": "one breaker per operation instead of one per backend"}
    )

    def __post_init__(self) -> None:
        if self.window == "count" and self.minimum_calls > self.window_size:
            raise ValueError(
                f"minimum_calls ({self.minimum_calls}) exceeds window_size ({self.window_size}):"
                " a count window could never reach it, so the failure rate would never be judged"
            )
