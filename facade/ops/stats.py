"""Rolling per-backend call statistics for the dashboard: calls, failure rate and p95 latency.

Kept in memory, per process, over the last few minutes, in fixed-size buckets so memory stays
bounded whatever the traffic. Prometheus has the durable, aggregatable version of the same data.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from resilience import Clock

__all__ = ["BackendStats"]

_BUCKET_S = 10.0
_SAMPLES_PER_BUCKET = 256


@dataclass
class _Bucket:
    start: float
    calls: int = 0
    failures: int = 0
    samples: list[float] = field(default_factory=list)


class BackendStats:
    def __init__(self, clock: Clock, *, window_s: float = 300.0) -> None:
        self.clock = clock
        self.window_s = window_s
        self._buckets: dict[str, deque[_Bucket]] = defaultdict(deque)

    def record(self, backend: str, seconds: float, *, failed: bool) -> None:
        now = self.clock.monotonic()
        buckets = self._buckets[backend]
        if not buckets or now - buckets[-1].start >= _BUCKET_S:
            buckets.append(_Bucket(now))
        bucket = buckets[-1]
        bucket.calls += 1
        bucket.failures += failed
        if len(bucket.samples) < _SAMPLES_PER_BUCKET:
            bucket.samples.append(seconds)
        while buckets and now - buckets[0].start > self.window_s:
            buckets.popleft()

    def summary(self, backend: str) -> dict[str, float | int | None]:
        now = self.clock.monotonic()
        live = [b for b in self._buckets.get(backend, ()) if now - b.start <= self.window_s]
        calls = sum(b.calls for b in live)
        failures = sum(b.failures for b in live)
        samples = sorted(s for b in live for s in b.samples)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))] if samples else None
        return {
            "calls": calls,
            "failure_rate": round(failures / calls, 4) if calls else 0.0,
            "p95_ms": round(p95 * 1000, 1) if p95 is not None else None,
            "window_s": self.window_s,
        }
