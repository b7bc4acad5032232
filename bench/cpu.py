"""How much CPU each party used while a scenario was measured, and how much its neighbours did.

The machine is shared (other test runs, other sessions), and on two cores one busy neighbour
halves a result. Ratios are only trustworthy when both sides ran on a quiet machine, so each
measured window records the machine's busy CPU time (``/proc/stat``) minus what the benchmark's
own processes used (its children via ``/proc/<pid>/stat``, wrk and itself via ``os.times``).
Linux only; elsewhere the figure is simply absent.

The same window also records the CPU seconds of the parties it is told to watch (the process
under load, the sandbox): divided by the requests answered, that is what one request cost each
of them, a figure far steadier on a shared two-CPU machine than requests per second.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CpuWindow", "busy_cores"]

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_s() -> float | None:
    """CPU seconds the whole machine spent not idle since boot (steal counts as busy)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / _TICK  # utime, stime
    return 0.0


def own_cpu_s() -> float:
    """This process plus its reaped children (the load generator runs are reaped ones)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class CpuWindow:
    """Start it, run the load, stop it: ``foreign_cores`` is the neighbours' average usage."""

    pids: Callable[[], Iterable[int]]  # the benchmark's live child processes
    #: the parties to account for (name → their live processes, workers included)
    watched: Callable[[], Mapping[str, Iterable[int]]] = dict
    foreign_cores: float | None = None
    #: CPU seconds each watched party used during the window
    used_s: dict[str, float] = field(default_factory=dict)
    _start: tuple[float, float, float] | None = None
    _watched_start: dict[str, float] = field(default_factory=dict)

    def _watched_cpu_s(self) -> dict[str, float]:
        return {
            name: sum(process_cpu_s(pid) for pid in pids) for name, pids in self.watched().items()
        }

    def _sample(self) -> tuple[float, float, float] | None:
        busy = machine_busy_s()
        if busy is None:
            return None
        ours = own_cpu_s() + sum(process_cpu_s(pid) for pid in self.pids())
        return time.monotonic(), busy, ours

    def __enter__(self) -> CpuWindow:
        self._watched_start = self._watched_cpu_s()
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        used = self._watched_cpu_s()
        self.used_s = {
            name: round(seconds - self._watched_start[name], 3)
            for name, seconds in used.items()
            if name in self._watched_start
        }
        end = self._sample()
        if self._start is None or end is None:
            return
        wall = end[0] - self._start[0]
        foreign = (end[1] - self._start[1]) - (end[2] - self._start[2])
        self.foreign_cores = busy_cores(foreign, wall)


def busy_cores(cpu_seconds: float, wall_seconds: float) -> float | None:
    """Average cores kept busy; clock-tick rounding can make a quiet machine read slightly < 0."""
    if wall_seconds <= 0:
        return None
    return round(max(cpu_seconds / wall_seconds, 0.0), 2)
