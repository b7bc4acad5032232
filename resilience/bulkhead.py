"""Bulkhead: a cap on concurrent calls per backend; its validated configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BulkheadConfig"]


@dataclass(frozen=True, kw_only=True, slots=True)
class BulkheadConfig:
    """How many calls one backend may have in flight, and how long a caller waits for a slot."""

    max_concurrent: int = field(default=32, metadata={"ge": 1, "help": "calls in flight at once"})
    max_wait: float = field(
        default=0.25,
        metadata={"unit": "seconds", "ge": 0, "help": "wait for a free slot before 503"},
    )
