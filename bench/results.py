"""What one benchmark run found, as plain data: written to JSON, read by the report and targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.loadgen import LoadResult

__all__ = ["FAILED", "OK", "SKIPPED", "UNAVAILABLE", "ColdGets", "RunResult", "ScenarioResult"]

OK = "ok"
FAILED = "failed"  # the scenario ran and broke (its target did not answer 2xx, a process died)
UNAVAILABLE = "unavailable"  # the product cannot do it yet (e.g. no --workers option)
SKIPPED = "skipped"  # not selected by --only, or out of time budget


@dataclass
class ScenarioResult:
    """One load scenario: its throughput and latency, and what the backends saw meanwhile."""

    name: str
    label: str
    group: str
    status: str = OK
    url: str = ""
    load: LoadResult | None = None
    backend_calls: dict[str, int] = field(default_factory=dict)  # per system, measured window
    note: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)  # scenario-specific observations
    foreign_cpu_cores: float | None = None  # CPU used by other processes meanwhile (bench.cpu)
    cpu_s: dict[str, float] = field(default_factory=dict)  # "target"/"sandbox" → CPU seconds used
    #: the measured windows, one per round; ``load`` is their sum (bench.runner)
    windows: list[LoadResult] = field(default_factory=list)

    def cpu_us_per_request(self, party: str) -> float | None:
        """Microseconds of CPU ``party`` spent per answered request in the measured window."""
        if not self.measured or party not in self.cpu_s:
            return None
        assert self.load is not None
        return self.cpu_s[party] / self.load.requests * 1e6

    @property
    def measured(self) -> bool:
        return self.status == OK and self.load is not None and self.load.requests > 0

    def calls_per_request(self) -> float | None:
        """Backend calls (all systems) per answered request in the measured window."""
        if not self.measured or not self.backend_calls:
            return None
        assert self.load is not None
        return sum(self.backend_calls.values()) / self.load.requests

    def failure_fraction(self) -> float:
        """The share of requests that got no answer or a non-2xx answer."""
        if self.load is None:
            return 1.0
        attempts = self.load.requests + self.load.errors
        return (self.load.non_2xx + self.load.errors) / attempts if attempts else 1.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["load"] = self.load.to_json() if self.load else None
        data["windows"] = [window.to_json() for window in self.windows]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioResult:
        load = LoadResult.from_json(data["load"]) if data.get("load") else None
        windows = [LoadResult.from_json(w) for w in data.get("windows", [])]
        return cls(**{**data, "load": load, "windows": windows})


@dataclass
class ColdGets:
    """N concurrent identical GETs of a key nobody asked for yet, and the backend calls they cost."""

    concurrency: int
    status: str = OK
    backend_calls: int | None = None
    statuses: dict[str, int] = field(default_factory=dict)  # HTTP status (or error) → count
    elapsed_s: float = 0.0
    url: str = ""
    note: str = ""


@dataclass
class RunResult:
    meta: dict[str, Any]
    scenarios: list[ScenarioResult] = field(default_factory=list)
    cold_gets: ColdGets | None = None
    peak_rss_kib: dict[str, int] = field(default_factory=dict)  # process name → VmHWM

    def scenario(self, name: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "scenarios": [s.to_json() for s in self.scenarios],
            "cold_gets": asdict(self.cold_gets) if self.cold_gets else None,
            "peak_rss_kib": self.peak_rss_kib,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        cold = data.get("cold_gets")
        return cls(
            meta=data["meta"],
            scenarios=[ScenarioResult.from_json(s) for s in data.get("scenarios", [])],
            cold_gets=ColdGets(**cold) if cold else None,
            peak_rss_kib=data.get("peak_rss_kib", {}),
        )
