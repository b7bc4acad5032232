"""Prometheus metrics: names and labels are documented in docs/ops.md.

Counters and histograms are fed as things happen (the HTTP middleware, each backend attempt,
the resilience events, the route cache); gauges that describe state (breaker state, outbox
depth) are read when Prometheus scrapes, so they are never stale.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from resilience import BreakerTransition, BulkheadRejected, EventBus, RetryAttempt
from resilience.breaker_registry import BreakerRegistry

__all__ = ["BREAKER_STATE_VALUES", "Metrics"]

#: veneer_breaker_state's value for each state
BREAKER_STATE_VALUES = {
    "closed": 0,
    "half_open": 1,
    "open": 2,
    "forced_open": 3,
    "forced_closed": 4,
    "disabled": 5,
}
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._cache_children: dict[tuple[str, str], Any] = {}
        self.http_requests = Counter(
            "veneer_http_requests",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "veneer_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.backend_calls = Counter(
            "veneer_backend_calls",
            "Backend call attempts by outcome",
            ["backend", "operation", "outcome"],
            registry=r,
        )
        self.backend_latency = Histogram(
            "veneer_backend_call_duration_seconds",
            "Time of one backend attempt",
            ["backend", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.breaker_state = Gauge(
            "veneer_breaker_state",
            "Breaker state: " + ", ".join(f"{v}={k}" for k, v in BREAKER_STATE_VALUES.items()),
            ["breaker"],
            registry=r,
        )
        self.breaker_transitions = Counter(
            "veneer_breaker_transitions",
            "Breaker state changes",
            ["breaker", "from_state", "to_state"],
            registry=r,
        )
        self.retries = Counter(
            "veneer_retries", "Retries of backend calls", ["backend"], registry=r
        )
        self.bulkhead_rejections = Counter(
            "veneer_bulkhead_rejections",
            "Calls refused by a full bulkhead",
            ["backend"],
            registry=r,
        )
        self.cache = Counter(
            "veneer_cache_lookups",
            "Cached GET answers by result (hit, stale, miss)",
            ["route", "result"],
            registry=r,
        )
        self.outbox = Gauge(
            "veneer_outbox_entries", "Queued writes by status", ["status"], registry=r
        )
        self.reloads = Counter(
            "veneer_config_reloads", "Configuration reloads by result", ["result"], registry=r
        )

    # -- feeding ----------------------------------------------------------------------------
    def subscribe(self, events: EventBus) -> None:
        events.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, BreakerTransition):
            self.breaker_transitions.labels(event.breaker, event.before, event.after).inc()
        elif isinstance(event, RetryAttempt):
            self.retries.labels(event.name).inc()
        elif isinstance(event, BulkheadRejected):
            self.bulkhead_rejections.labels(event.name).inc()

    def backend_call(self, backend: str, operation: str, outcome: str, seconds: float) -> None:
        self.backend_calls.labels(backend, operation, outcome).inc()
        self.backend_latency.labels(backend, operation).observe(seconds)

    def cache_lookup(self, route: str, result: str) -> None:
        child = self._cache_children.get((route, result))
        if child is None:
            child = self._cache_children[(route, result)] = self.cache.labels(route, result)
        child.inc()

    def http_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Label lookups take a lock and build a key: keep each series' children at hand.
        children = self._http_children.get((route, method, status))
        if children is None:
            children = (
                self.http_requests.labels(route, method, str(status)),
                self.http_latency.labels(route, method),
            )
            self._http_children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    # -- scraping ---------------------------------------------------------------------------
    async def render(self, breakers: BreakerRegistry, outbox: Any | None) -> web.Response:
        for breaker in breakers.all():
            self.breaker_state.labels(breaker.name).set(
                BREAKER_STATE_VALUES.get(str(breaker.state), -1)
            )
        if outbox is not None:
            counts = await outbox.counts()
            for status in ("queued", "delivering", "done", "dead", "discarded"):
                self.outbox.labels(status).set(counts.get(status, 0))
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
