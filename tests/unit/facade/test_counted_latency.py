"""The lock-free request series expose exactly what prometheus_client's own metrics would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from facade.metrics import _LATENCY_BUCKETS, CountedLatency

OBSERVATIONS = [
    (("GET /a", "GET"), "200", 0.0004),
    (("GET /a", "GET"), "200", 0.001),  # on a bound: counted in that bucket (le)
    (("GET /a", "GET"), "404", 0.03),
    (("POST /b", "POST"), "201", 7.5),
    (("POST /b", "POST"), "201", 12.0),  # past the last bound: +Inf only
]


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counts_buckets_and_sums_match_the_client_library() -> None:
    """Every sample (totals, cumulative buckets, sums, counts) equals a Counter + Histogram fed alike."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    counted = CountedLatency(
        ("t_requests", "requests"), ("t_seconds", "latency"), ["route", "method"], "status"
    )
    ours.register(counted)
    counter = Counter("t_requests", "requests", ["route", "method", "status"], registry=theirs)
    histogram = Histogram(
        "t_seconds", "latency", ["route", "method"], buckets=_LATENCY_BUCKETS, registry=theirs
    )
    for labels, status, seconds in OBSERVATIONS:
        counted.record(labels, status, seconds)
        counter.labels(*labels, status).inc()
        histogram.labels(*labels).observe(seconds)
    expected = _samples(theirs)
    assert _samples(ours) == expected
    assert (
        expected[("t_seconds_bucket", (("le", "+Inf"), ("method", "POST"), ("route", "POST /b")))]
        == 2
    )
