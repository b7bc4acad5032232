"""Retry with exponential backoff: its validated configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RetryConfig"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryConfig:
    """How idempotent calls that failed transiently are tried again."""

    attempts: int = field(default=3, metadata={"ge": 1, "help": "total tries, the first included"})
    backoff: float = field(
        default=0.1,
        metadata={
            "unit": "seconds",
            "gt": 0,
            "help": "first backoff; doubles each retry, with jitter",
        },
    )
    backoff_max: float = field(
        default=2.0, metadata={"unit": "seconds", "gt": 0, "help": "the largest single backoff"}
    )
    budget: float = field(
        default=0.2,
        metadata={"ge": 0, "le": 1, "help": "retries may be at most this share of calls"},
    )
    budget_window: float = field(
        default=10.0,
        metadata={"unit": "seconds", "gt": 0, "help": "the window the budget is counted over"},
    )

    def __post_init__(self) -> None:
        if self.backoff_max < self.backoff:
            raise ValueError(
                f"backoff_max ({self.backoff_max}) must not be smaller than backoff ({self.backoff})"
            )
