"""The write outbox: its validated configuration (how queued writes are retried and kept)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OutboxConfig"]


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxConfig:
    """How queued writes are retried and kept."""

    max_attempts: int = field(
        default=10, metadata={"ge": 1, "help": "delivery attempts before a write is dead-lettered"}
    )
    backoff: float = field(
        default=1.0,
        metadata={"unit": "seconds", "gt": 0, "help": "first retry delay; doubles each attempt"},
    )
    backoff_max: float = field(
        default=300.0, metadata={"unit": "seconds", "gt": 0, "help": "the longest retry delay"}
    )
    poll: float = field(
        default=0.5, metadata={"unit": "seconds", "gt": 0, "help": "how often the worker looks"}
    )
    batch: int = field(default=10, metadata={"ge": 1, "help": "entries claimed per pass"})
    lease: float = field(
        default=60.0,
        metadata={
            "unit": "seconds",
            "gt": 0,
            "help": "a claimed entry is redelivered if not finished by then (> route deadline)",
        },
    )
    keep_finished: float = field(
        default=7 * 24 * 3600.0,
        metadata={"unit": "seconds", "gt": 0, "help": "how long done/discarded entries stay"},
    )

    def __post_init__(self) -> None:
        if self.backoff_max < self.backoff:
            raise ValueError(
                f"backoff_max ({self.backoff_max}) must not be smaller than backoff ({self.backoff})"
            )
