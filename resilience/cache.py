"""Response cache for reads: its per-route policy."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CachePolicy"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CachePolicy:
    """How long a good answer is fresh, and how long it may stand in when it is not.

    Fresh for ``ttl``; then served while a background refresh runs for ``stale_while_revalidate``;
    served instead of an error for ``stale_if_error`` (both counted from the end of ``ttl``).
    """

    ttl: float = field(metadata={"unit": "seconds", "ge": 0, "help": "seconds an answer is fresh"})
    stale_while_revalidate: float = field(
        default=0.0, metadata={"unit": "seconds", "ge": 0, "help": "serve stale while refreshing"}
    )
    stale_if_error: float = field(
        default=0.0,
        metadata={"unit": "seconds", "ge": 0, "help": "serve stale when the backend fails"},
    )
    vary: tuple[str, ...] = field(
        default=(),
        metadata={"help": "request headers that make answers differ (the caller always does)"},
    )
