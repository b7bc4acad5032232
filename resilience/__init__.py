"""Resilience: breakers, retries, timeouts, bulkheads, caching, idempotency and the write outbox.

Nothing here knows which protocol a backend speaks: failures are classified by predicates the
caller injects (:class:`Classification`), and time comes from an injected :class:`Clock`.
"""

from resilience.breaker import BreakerConfig, BreakerSnapshot, BreakerState, CircuitBreaker
from resilience.breaker_registry import BreakerRegistry
from resilience.bulkhead import Bulkhead, BulkheadConfig
from resilience.cache import CachePolicy
from resilience.clock import Clock, FakeClock, SystemClock
from resilience.deadline import Deadline
from resilience.errors import BreakerOpen, BulkheadFull, DeadlineExceeded, ResilienceError
from resilience.events import (
    BreakerTransition,
    BulkheadRejected,
    CallOutcome,
    Event,
    EventBus,
    RetryAttempt,
)
from resilience.idempotency import Begun, IdempotencyStore, InProgress, Mismatch, Replay
from resilience.outbox import Outbox
from resilience.outbox_entry import OutboxEntry
from resilience.outbox_worker import OutboxWorker
from resilience.policy import BackendPolicy, Classification
from resilience.response_cache import CachedResponse, Freshness, ResponseCache, retention
from resilience.retry import Retrier, RetryConfig
from resilience.singleflight import SingleFlight
from resilience.store import Store
from resilience.timeouts import Timeouts

__all__ = [
    "BackendPolicy",
    "Begun",
    "BreakerConfig",
    "BreakerOpen",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerTransition",
    "Bulkhead",
    "BulkheadConfig",
    "BulkheadFull",
    "BulkheadRejected",
    "CachePolicy",
    "CachedResponse",
    "CallOutcome",
    "CircuitBreaker",
    "Classification",
    "Clock",
    "Deadline",
    "DeadlineExceeded",
    "Event",
    "EventBus",
    "FakeClock",
    "Freshness",
    "IdempotencyStore",
    "InProgress",
    "Mismatch",
    "Outbox",
    "OutboxEntry",
    "OutboxWorker",
    "Replay",
    "ResilienceError",
    "ResponseCache",
    "Retrier",
    "RetryAttempt",
    "RetryConfig",
    "SingleFlight",
    "Store",
    "SystemClock",
    "Timeouts",
    "retention",
]
