"""Exact timeouts for backend calls: their validated configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Timeouts"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Timeouts:
    """Connect and read timeouts for one backend, in seconds, honoured to the millisecond."""

    connect: float = field(
        default=2.0, metadata={"unit": "seconds", "gt": 0, "help": "to open a connection"}
    )
    read: float = field(
        default=10.0, metadata={"unit": "seconds", "gt": 0, "help": "to receive the reply"}
    )
