"""Typed events every primitive publishes, for metrics, logs and the live dashboard.

A subscriber is any callable taking one event. Publishing is synchronous and cheap; a subscriber
that raises is logged and does not disturb the call being made.
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
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed", event=type(event).__name__)
