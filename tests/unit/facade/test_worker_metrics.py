"""Workers' numbers add up to the gateway's: files in a shared directory, merged at scrape time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from facade.metrics import Metrics
from facade.worker_metrics import (
    METRICS_DIR_ENV,
    WORKER_SLOT_ENV,
    Snapshot,
    WorkerMetrics,
    merge,
    run_directory,
)
from resilience.breaker_config import BreakerConfig
from resilience.breaker_registry import BreakerRegistry
from resilience.clock import FakeClock
from resilience.events import EventBus

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]

#: what two workers served: (route, method), status, seconds
FIRST = [(("/a", "GET"), "200", 0.004), (("/a", "GET"), "404", 0.2), (("/b", "POST"), "201", 3.0)]
SECOND = [(("/a", "GET"), "200", 0.0009), (("/a", "GET"), "200", 0.07)]


def series(text: str | bytes) -> Series:
    found: Series = {}
    source = text.decode() if isinstance(text, bytes) else text
    for family in text_string_to_metric_families(source):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def without_created(found: Series) -> Series:
    return {key: value for key, value in found.items() if not key[0].endswith("_created")}


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def fed(metrics: Metrics, observations: list[tuple[tuple[str, str], str, float]]) -> Metrics:
    for (route, method), status, seconds in observations:
        metrics.http_request(route, method, int(status), seconds)
    metrics.backend_call("erp", "Read", "success", 0.01)
    metrics.retries.labels("erp").inc()
    return metrics


async def test_a_scrape_of_either_worker_reports_what_one_process_serving_both_would(
    tmp_path: Path,
) -> None:
    """Every counter and histogram sample of the merge equals one registry fed both workers' requests."""
    breakers = BreakerRegistry(clock=FakeClock(), events=EventBus())
    first = fed(Metrics(WorkerMetrics(tmp_path, "0", pid=os.getpid())), FIRST)
    second = fed(Metrics(WorkerMetrics(tmp_path, "1", pid=os.getppid())), SECOND)
    alone = fed(fed(Metrics(), FIRST), SECOND)
    first.publish(breakers)
    second.publish(breakers)

    expected = without_created(series(generate_latest(alone.registry)))
    for scraped in (first, second):
        answer = await scraped.render(breakers, None)
        assert answer.body is not None
        assert without_created(series(bytes(answer.body))) == expected
    assert expected[("veneer_retries_total", (("backend", "erp"),))] == 2


def test_the_earliest_created_time_is_kept() -> None:
    """A counter's ``_created`` is the first worker's, not a sum of timestamps."""

    def counter_snapshot(pid: int, created: float) -> Snapshot:
        family = Metric("jobs", "jobs done", "counter")
        family.add_sample("jobs_total", {}, 1.0)
        family.add_sample("jobs_created", {}, created)
        return Snapshot(pid, str(pid), [family])

    (family,) = merge(
        counter_snapshot(1, 200.0), [counter_snapshot(2, 100.0)], alive={2}, shared=frozenset()
    )
    values = {sample.name: sample.value for sample in family.samples}
    assert values == {"jobs_total": 2.0, "jobs_created": 100.0}


def test_gauges_are_labelled_by_worker_and_a_dead_workers_are_dropped(tmp_path: Path) -> None:
    """A live worker's state shows under its slot; a dead one's state goes, its counts stay."""

    def worker(slot: str, pid: int, state: float, served: float) -> WorkerMetrics:
        registry = CollectorRegistry()
        Gauge("state", "breaker state", ["breaker"], registry=registry).labels("erp").set(state)
        Counter("served", "requests", registry=registry).inc(served)
        files = WorkerMetrics(tmp_path, slot, pid=pid)
        files.publish(registry.collect())
        return files

    worker("1", os.getppid(), 2.0, 5)
    worker("2", dead_pid(), 1.0, 7)  # the worker slot 2 had before it was replaced
    registry = CollectorRegistry()
    Gauge("state", "breaker state", ["breaker"], registry=registry).labels("erp").set(0.0)
    Counter("served", "requests", registry=registry).inc(1)
    own = WorkerMetrics(tmp_path, "0", pid=os.getpid())

    merged = series(generate_latest(_Registry(own.gather(registry.collect(), shared=frozenset()))))

    states = {key: value for key, value in merged.items() if key[0] == "state"}
    assert states == {
        ("state", (("breaker", "erp"), ("worker", "0"))): 0.0,
        ("state", (("breaker", "erp"), ("worker", "1"))): 2.0,
    }
    assert merged[("served_total", ())] == 13.0


def test_a_shared_gauge_is_the_scraped_workers_own_and_unlabelled() -> None:
    """The outbox's entries come from the store every worker reads: one series, not a sum."""

    def gauge_snapshot(pid: int, value: float) -> Snapshot:
        family = Metric("veneer_outbox_entries", "queued writes", "gauge")
        family.add_sample("veneer_outbox_entries", {"status": "dead"}, value)
        return Snapshot(pid, str(pid), [family])

    (family,) = merge(
        gauge_snapshot(1, 3.0),
        [gauge_snapshot(2, 2.0)],
        alive={2},
        shared=frozenset({"veneer_outbox_entries"}),
    )
    assert [(s.labels, s.value) for s in family.samples] == [({"status": "dead"}, 3.0)]


def test_a_snapshot_survives_its_file_unchanged() -> None:
    """What a worker writes is what the others read: names, types, help, labels and values."""
    registry = CollectorRegistry()
    Counter("jobs", "jobs done", ["kind"], registry=registry).labels("a").inc(3)
    Gauge("depth", "queue depth", registry=registry).set(1.5)
    families = list(registry.collect())
    read = Snapshot.from_json(Snapshot(42, "3", families).to_json())
    assert (read.pid, read.slot) == (42, "3")
    assert read.families == families


def test_an_unreadable_file_is_skipped_and_the_rest_still_count(tmp_path: Path) -> None:
    """A half-written or foreign file in the directory costs its numbers, not the scrape."""
    (tmp_path / "worker-9-1.json").write_text("{not json")
    registry = CollectorRegistry()
    Counter("served", "requests", registry=registry).inc(2)
    WorkerMetrics(tmp_path, "1", pid=os.getppid()).publish(registry.collect())
    own = WorkerMetrics(tmp_path, "0", pid=os.getpid())
    merged = series(generate_latest(_Registry(own.gather(registry.collect(), shared=frozenset()))))
    assert merged[("served_total", ())] == 4.0


def test_only_a_worker_of_a_supervisor_shares_its_numbers(tmp_path: Path) -> None:
    """Both variables name a directory that exists: a worker; anything less: a single process."""
    complete = {METRICS_DIR_ENV: str(tmp_path), WORKER_SLOT_ENV: "1"}
    found = WorkerMetrics.from_environment(complete)
    assert found is not None
    assert (found.directory, found.slot) == (tmp_path, "1")
    assert WorkerMetrics.from_environment({}) is None
    assert WorkerMetrics.from_environment({METRICS_DIR_ENV: str(tmp_path)}) is None
    gone = {METRICS_DIR_ENV: str(tmp_path / "gone"), WORKER_SLOT_ENV: "0"}
    assert WorkerMetrics.from_environment(gone) is None


@pytest.mark.parametrize("slots", [["10", "2", "0"], ["0", "2", "10"]])
def test_workers_appear_in_slot_order_whoever_is_scraped(slots: list[str]) -> None:
    """Series come out by slot number (2 before 10), not by who answered or by text order."""

    def gauge_snapshot(slot: str) -> Snapshot:
        family = Metric("state", "breaker state", "gauge")
        family.add_sample("state", {}, float(slot))
        return Snapshot(int(slot) + 100, slot, [family])

    own, *others = (gauge_snapshot(slot) for slot in slots)
    (family,) = merge(own, others, alive={110, 102, 100}, shared=frozenset())
    assert [s.labels["worker"] for s in family.samples] == ["0", "2", "10"]


class _Registry:
    """Families as ``generate_latest`` takes them."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def test_each_workers_breaker_states_are_listed_by_slot(tmp_path: Path) -> None:
    """What /ops/breakers adds under workers: every live worker's state of every breaker, by
    slot, its own read live; a single process lists none."""

    def worker(slot: str, pid: int, erp_forced: bool) -> tuple[Metrics, BreakerRegistry]:
        breakers = BreakerRegistry(clock=FakeClock(), events=EventBus())
        for name in ("erp", "crm"):
            breakers.get(name, BreakerConfig())
        if erp_forced:
            breakers.get("erp", BreakerConfig()).force("forced_open", reason="maintenance")
        return Metrics(WorkerMetrics(tmp_path, slot, pid=pid)), breakers

    other, other_breakers = worker("1", os.getppid(), erp_forced=True)
    other.publish(other_breakers)
    own, own_breakers = worker("0", os.getpid(), erp_forced=False)

    assert own.breaker_states_by_worker(own_breakers) == {
        "crm": {"0": "closed", "1": "closed"},
        "erp": {"0": "closed", "1": "forced_open"},
    }
    assert Metrics().breaker_states_by_worker(own_breakers) == {}


def test_a_run_directory_left_by_a_killed_supervisor_is_removed_by_the_next(tmp_path: Path) -> None:
    """A new run's directory is named after its supervisor; a directory whose supervisor is gone
    is removed, one whose supervisor runs (or that is not ours) is left alone."""
    abandoned = tmp_path / f"veneer-metrics-{dead_pid()}-abc"
    running = tmp_path / f"veneer-metrics-{os.getppid()}-def"
    foreign = tmp_path / "veneer-metrics-notes"
    for directory in (abandoned, running, foreign):
        directory.mkdir()
        (directory / "worker-0-1.json").write_text("{}")

    created = run_directory(tmp_path)

    assert created.is_dir() and created.name.startswith(f"veneer-metrics-{os.getpid()}-")
    assert not abandoned.exists()
    assert running.is_dir() and foreign.is_dir()
