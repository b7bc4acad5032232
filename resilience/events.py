"""Typed events every primitive publishes, for metrics, logs and the live dashboard.

A subscriber is any callable taking one event, of every kind or of the kinds it names.
Publishing is synchronous and cheap; a subscriber that raises is logged and does not disturb the
call being made. A publisher may ask whether anyone listens for a kind before it builds such an
event (:meth:`EventBus.wants`): the breaker's per-call outcome is one per backend call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

__all__ = [
    "BreakerTransition",
    "BulkheadRejected",
    "CallOutcome",
    "Event",
    "EventBus",
    "RetryAttempt",
]

log = structlog.get_logger("veneer.events")


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # the clock's monotonic time


@dataclass(frozen=True, slots=True)
class BreakerTransition(Event):
    breaker: str
    before: str
    after: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallOutcome(Event):
    breaker: str
    outcome: str  # success | failure | slow | ignored | rejected
    duration_s: float


@dataclass(frozen=True, slots=True)
class RetryAttempt(Event):
    name: str
    attempt: int  # the attempt about to be made, 2 for the first retry
    delay_s: float
    error: str


@dataclass(frozen=True, slots=True)
class BulkheadRejected(Event):
    name: str
    in_flight: int


Subscriber = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, tuple[type[Event], ...] | None]] = []
        self._wanted: dict[type[Event], bool] = {}

    def subscribe(
        self, subscriber: Subscriber, kinds: tuple[type[Event], ...] | None = None
    ) -> Callable[[], None]:
        """Add a subscriber to the events of ``kinds`` (None: every kind); returns a function
        that removes it."""
        entry = (subscriber, kinds)
        self._subscribers.append(entry)
        self._wanted.clear()

        def unsubscribe() -> None:
            self._subscribers.remove(entry)
            self._wanted.clear()

        return unsubscribe

    def wants(self, kind: type[Event]) -> bool:
        """Whether any subscriber listens for events of ``kind``."""
        wanted = self._wanted.get(kind)
        if wanted is None:
            wanted = self._wanted[kind] = any(
                kinds is None or issubclass(kind, kinds) for _, kinds in self._subscribers
            )
        return wanted

    def publish(self, event: Event) -> None:
        for subscriber, kinds in list(self._subscribers):
            if kinds is not None and not isinstance(event, kinds):
                continue
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed", event=type(event).__name__)
