"""One ``/metrics`` for the whole gateway under ``serve --workers N``, whichever worker answers.

The kernel gives each scrape's connection to one worker, and each counts only what it served.
So every worker writes what its registry holds to a file of its own, in a directory the
supervisor made for the run (``VENEER_METRICS_DIR``), once a second and when it stops; the
worker that is scraped reads the others' files and adds them to its own live numbers:

- **counters and histograms** are summed series by series, a dead worker's included: its last
  numbers stay in the total, so no series goes back when a worker is replaced; ``_created``
  takes the earliest;
- **gauges** are a process's own view (a breaker's automatic state): each live worker's series
  carries a ``worker`` label, its slot (``0`` to ``N-1``, which a replacement inherits), and a
  dead worker's are dropped;
- **shared gauges**, read from the store every worker shares (the outbox's entries), are the
  same everywhere: the scraped worker's own, unlabelled.

Another worker's numbers are at most a second old, and a worker that crashes loses its last
second. A single process writes nothing and answers its own registry, as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson
import structlog
from prometheus_client.core import Metric

__all__ = [
    "METRICS_DIR_ENV",
    "WORKER_SLOT_ENV",
    "Snapshot",
    "WorkerMetrics",
    "merge",
    "run_directory",
]

log = structlog.get_logger("veneer.metrics")
#: set by the supervisor for each worker: the directory every worker writes its numbers to
METRICS_DIR_ENV = "VENEER_METRICS_DIR"
#: set by the supervisor for each worker: its slot, 0 to N-1 (a restarted worker keeps it)
WORKER_SLOT_ENV = "VENEER_WORKER_SLOT"
WORKER_LABEL = "worker"
_SUMMED = frozenset({"counter", "histogram"})
_RUN_PREFIX = "veneer-metrics-"


@dataclass(frozen=True)
class Snapshot:
    """One worker's families as it last wrote them."""

    pid: int
    slot: str
    families: list[Metric]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "pid": self.pid,
                "slot": self.slot,
                "families": [
                    {
                        "name": family.name,
                        "type": family.type,
                        "help": family.documentation,
                        "samples": [[s.name, s.labels, s.value] for s in family.samples],
                    }
                    for family in self.families
                ],
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Snapshot:
        document = orjson.loads(data)
        families = []
        for entry in document["families"]:
            family = Metric(entry["name"], entry["help"], entry["type"])
            for name, labels, value in entry["samples"]:
                family.add_sample(name, labels, value)
            families.append(family)
        return cls(int(document["pid"]), str(document["slot"]), families)


def merge(
    own: Snapshot, others: Iterable[Snapshot], *, alive: set[int], shared: frozenset[str]
) -> list[Metric]:
    """The gateway's families: ``own`` (live) with ``others`` (as last written) added in.

    ``alive`` holds the pids of the workers running now; ``shared`` the names of the gauges
    every worker reads from the store, which come from ``own`` alone.
    """
    merged: dict[str, Metric] = {}
    # (family, sample name, labels) → the sample's value; insertion order is the output order
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}

    def add(snapshot: Snapshot, family: Metric) -> None:
        summed = family.type in _SUMMED
        # The store's gauges are the scraped worker's own; a dead worker has no state to show.
        skipped = snapshot is not own and (family.name in shared or snapshot.pid not in alive)
        if skipped and not summed:
            return
        if family.name not in merged:
            merged[family.name] = Metric(family.name, family.documentation, family.type)
            values[family.name] = {}
        series = values[family.name]
        for sample in family.samples:
            labels = dict(sample.labels)
            if not summed and family.name not in shared:
                labels[WORKER_LABEL] = snapshot.slot
            key = (sample.name, tuple(sorted(labels.items())))
            known = series.get(key)
            if known is None:
                series[key] = sample.value
            elif sample.name.endswith("_created"):
                series[key] = min(known, sample.value)
            else:
                series[key] = known + sample.value

    for snapshot in sorted((own, *others), key=_by_slot):
        for family in snapshot.families:
            add(snapshot, family)
    for name, family in merged.items():
        for (sample_name, labels), value in values[name].items():
            family.add_sample(sample_name, dict(labels), value)
    return list(merged.values())


def _by_slot(snapshot: Snapshot) -> tuple[int, str, int]:
    """Workers in slot order (``2`` before ``10``), a slot's earlier processes first."""
    return (len(snapshot.slot), snapshot.slot, snapshot.pid)


class WorkerMetrics:
    """This worker's file in the run's metrics directory, and everyone else's."""

    def __init__(self, directory: Path, slot: str, pid: int | None = None) -> None:
        self.directory = directory
        self.slot = slot
        self.pid = os.getpid() if pid is None else pid
        self.path = directory / f"worker-{slot}-{self.pid}.json"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerMetrics | None:
        """This worker's, if it is one of ``serve --workers N``; None for a single process."""
        environ = os.environ if environ is None else environ
        directory, slot = environ.get(METRICS_DIR_ENV), environ.get(WORKER_SLOT_ENV)
        if not directory or slot is None:
            return None
        if not Path(directory).is_dir():
            log.warning("the metrics directory is gone: this worker's numbers stay its own")
            return None
        return cls(Path(directory), slot)

    def publish(self, families: Iterable[Metric]) -> None:
        """Write this worker's families (whole: the file is replaced, never half-written)."""
        data = Snapshot(self.pid, self.slot, list(families)).to_json()
        partial = self.path.with_suffix(".tmp")
        try:
            partial.write_bytes(data)
            partial.replace(self.path)
        except OSError as exc:  # the directory went away: the next write tries again
            log.warning("cannot write this worker's metrics", error=str(exc))

    def others(self) -> Iterator[Snapshot]:
        """The other workers' snapshots, dead ones included; unreadable files are skipped."""
        for path in sorted(self.directory.glob("worker-*.json")):
            if path == self.path:
                continue
            try:
                yield Snapshot.from_json(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("a worker's metrics file is unreadable", file=path.name, error=str(exc))

    def gather(self, own: Iterable[Metric], *, shared: frozenset[str]) -> list[Metric]:
        """The whole gateway's families, this worker's ``own`` taken live."""
        others = list(self.others())
        alive = {snapshot.pid for snapshot in others if _running(snapshot.pid)}
        return merge(Snapshot(self.pid, self.slot, list(own)), others, alive=alive, shared=shared)


def run_directory(parent: Path | None = None) -> Path:
    """A new metrics directory for this supervisor's run, named after its pid.

    A supervisor killed outright cannot remove its directory: the next one removes those whose
    supervisor is no longer running.
    """
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    for stale in parent.glob(f"{_RUN_PREFIX}*"):
        pid = stale.name.removeprefix(_RUN_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_RUN_PREFIX}{os.getpid()}-", dir=parent))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the pid: not one of ours
        return False
    return True
