"""Prometheus metrics: names and labels are documented in docs/ops.md.

Counters and histograms are fed as things happen (the HTTP pipeline, each backend attempt,
the resilience events, the route cache); gauges that describe state (breaker state, outbox
depth) are read when Prometheus scrapes, so they are never stale.

The series fed on every request (HTTP requests, backend attempts, cache lookups) are kept as
plain numbers by :class:`Counted` and :class:`CountedLatency` and turned into Prometheus
families only when scraped: the client library's metric objects take a lock per increment and
per histogram bucket, which for a gateway answering from cache was a measurable share of the
answer (bench/NOTES.md).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from facade.worker_metrics import WORKER_LABEL
from resilience import BreakerTransition, BulkheadRejected, EventBus, RetryAttempt
from resilience.breaker_registry import BreakerRegistry

if TYPE_CHECKING:
    from facade.worker_metrics import WorkerMetrics

__all__ = ["BREAKER_STATE_VALUES", "SHARED_GAUGES", "Counted", "CountedLatency", "Metrics"]

#: veneer_breaker_state's value for each state
BREAKER_STATE_VALUES = {
    "closed": 0,
    "half_open": 1,
    "open": 2,
    "forced_open": 3,
    "forced_closed": 4,
    "disabled": 5,
}
_STATE_NAMES = {value: name for name, value in BREAKER_STATE_VALUES.items()}
#: gauges every process reads from the shared store: the same whichever worker is asked
SHARED_GAUGES = frozenset({"veneer_outbox_entries"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BUCKET_LABELS = (*(floatToGoString(bound) for bound in _LATENCY_BUCKETS), "+Inf")


class Counted(Collector):
    """A counter by ``labels``, fed by :meth:`add` on the event loop's thread (no lock) and
    exposed as a Prometheus counter family when scraped."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str]) -> None:
        self._name, self._help = name, help_text
        self._labels = list(labels)
        self._counts: dict[tuple[str, ...], int] = {}

    def add(self, labels: tuple[str, ...]) -> None:
        counts = self._counts
        counts[labels] = counts.get(labels, 0) + 1

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self._name, self._help, labels=self._labels)
        for key, count in list(self._counts.items()):
            family.add_metric(list(key), count)
        yield family


class CountedLatency(Collector):
    """A counter by ``labels + (outcome,)`` and a latency histogram by ``labels``, fed by
    :meth:`record` on the event loop's thread (no locks) and exposed as Prometheus families.
    """

    def __init__(
        self,
        counter: tuple[str, str],
        histogram: tuple[str, str],
        labels: Sequence[str],
        outcome: str,
    ) -> None:
        self._counter = Counted(*counter, [*labels, outcome])
        self._histogram_name, self._histogram_help = histogram
        self._labels = list(labels)
        # per label set: one count per bucket (the last is +Inf), then the sum of observations
        self._histograms: dict[tuple[str, ...], list[float]] = {}

    def record(self, labels: tuple[str, ...], outcome: str, seconds: float) -> None:
        self._counter.add((*labels, outcome))
        histogram = self._histograms.get(labels)
        if histogram is None:
            histogram = self._histograms[labels] = [0.0] * (len(_LATENCY_BUCKETS) + 2)
        histogram[bisect_left(_LATENCY_BUCKETS, seconds)] += 1  # le: the first bound >= seconds
        histogram[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        yield from self._counter.collect()
        histogram = HistogramMetricFamily(
            self._histogram_name, self._histogram_help, labels=self._labels
        )
        for labels, values in list(self._histograms.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for label, in_bucket in zip(_BUCKET_LABELS, values, strict=False):
                cumulative += in_bucket
                buckets.append((label, cumulative))
            histogram.add_metric(list(labels), buckets, values[-1])
        yield histogram


class _Families(Collector):
    """Families already gathered, as the exposition functions take them."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class Metrics:
    """The gateway's Prometheus registry; ``workers`` adds the other workers' numbers in
    (:mod:`facade.worker_metrics`) under ``serve --workers N``."""

    def __init__(self, workers: WorkerMetrics | None = None) -> None:
        self.workers = workers
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http = CountedLatency(
            ("veneer_http_requests", "HTTP requests answered"),
            ("veneer_http_request_duration_seconds", "Time to answer an HTTP request"),
            ["route", "method"],
            "status",
        )
        r.register(self.http)
        self.backends = CountedLatency(
            ("veneer_backend_calls", "Backend call attempts by outcome"),
            ("veneer_backend_call_duration_seconds", "Time of one backend attempt"),
            ["backend", "operation"],
            "outcome",
        )
        r.register(self.backends)
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
        self.cache = Counted(
            "veneer_cache_lookups",
            "Cached GET answers by result (hit, stale, miss)",
            ["route", "result"],
        )
        r.register(self.cache)
        self.outbox = Gauge(
            "veneer_outbox_entries", "Queued writes by status", ["status"], registry=r
        )
        self.reloads = Counter(
            "veneer_config_reloads", "Configuration reloads by result", ["result"], registry=r
        )

    # -- feeding ----------------------------------------------------------------------------
    def subscribe(self, events: EventBus) -> None:
        events.subscribe(self._on_event, (BreakerTransition, RetryAttempt, BulkheadRejected))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, BreakerTransition):
            self.breaker_transitions.labels(event.breaker, event.before, event.after).inc()
        elif isinstance(event, RetryAttempt):
            self.retries.labels(event.name).inc()
        elif isinstance(event, BulkheadRejected):
            self.bulkhead_rejections.labels(event.name).inc()

    def backend_call(self, backend: str, operation: str, outcome: str, seconds: float) -> None:
        self.backends.record((backend, operation), outcome, seconds)

    def cache_lookup(self, route: str, result: str) -> None:
        self.cache.add((route, result))

    def http_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.http.record((route, method), str(status), seconds)

    # -- scraping ---------------------------------------------------------------------------
    def read_states(self, breakers: BreakerRegistry) -> None:
        """Set the gauges that describe this process's state from the state itself."""
        for breaker in breakers.all():
            self.breaker_state.labels(breaker.name).set(
                BREAKER_STATE_VALUES.get(str(breaker.state), -1)
            )

    def publish(self, breakers: BreakerRegistry) -> None:
        """Write this worker's numbers for the other workers' scrapes (none without workers)."""
        if self.workers is not None:
            self.read_states(breakers)
            self.workers.publish(self.registry.collect())

    def breaker_states_by_worker(self, breakers: BreakerRegistry) -> dict[str, dict[str, str]]:
        """Under ``serve --workers N``: each breaker's automatic state in every live worker, by
        slot, from their latest numbers (this worker's live); empty for a single process."""
        if self.workers is None:
            return {}
        self.read_states(breakers)
        states: dict[str, dict[str, str]] = {}
        for family in self._gathered(self.workers):
            if family.name == "veneer_breaker_state":
                for sample in family.samples:
                    breaker, slot = sample.labels["breaker"], sample.labels[WORKER_LABEL]
                    state = _STATE_NAMES.get(int(sample.value), "unknown")
                    states.setdefault(breaker, {})[slot] = state
        return states

    def _gathered(self, workers: WorkerMetrics) -> list[Metric]:
        """Every worker's families: this one's live, the others' as they last wrote them."""
        return workers.gather(self.registry.collect(), shared=SHARED_GAUGES)

    async def render(self, breakers: BreakerRegistry, outbox: Any | None) -> web.Response:
        self.read_states(breakers)
        if outbox is not None:
            counts = await outbox.counts()
            for status in ("queued", "delivering", "done", "dead", "discarded"):
                self.outbox.labels(status).set(counts.get(status, 0))
        source: Collector = self.registry
        if self.workers is not None:
            source = _Families(self._gathered(self.workers))
        body = generate_latest(source)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
