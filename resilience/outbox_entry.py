"""What an outbox entry is: its fields, its statuses, and the errors operations on it raise.

See ``resilience.outbox`` for how an entry moves between statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from resilience.errors import ResilienceError

__all__ = [
    "STATUSES",
    "EntryNotFound",
    "InvalidTransition",
    "OutboxEntry",
    "OutboxError",
    "Status",
]

Status = Literal["queued", "delivering", "done", "dead", "discarded"]
STATUSES: tuple[Status, ...] = ("queued", "delivering", "done", "dead", "discarded")


class OutboxError(ResilienceError):
    """An operation on an outbox entry that cannot be done."""


class EntryNotFound(OutboxError):
    """No entry has this id."""


class InvalidTransition(OutboxError):
    """The entry is not in a status that allows this (e.g. replaying one that is not dead)."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A write waiting for (or past) delivery. Times are UTC-aware; ``attempts`` counts failed
    deliveries; ``result`` is the backend's answer once done, as JSON."""

    id: str
    backend: str
    operation: str
    params: dict[str, Any]
    resource: str | None
    idempotency_key: str | None
    request_id: str | None
    status: Status
    attempts: int
    max_attempts: int
    last_error: str | None
    result: Any
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    lease_until: datetime | None
