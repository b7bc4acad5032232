"""Child processes the benchmark starts, and the guarantee that none outlives it.

Every child runs in its own session (process group) so stopping it also stops whatever it forked
(gateway workers), and on Linux asks the kernel to SIGTERM it if the benchmark itself dies
without cleaning up (PR_SET_PDEATHSIG). Output goes to a log file per child, never to a pipe
nobody reads (a full pipe would stall the child mid-benchmark).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Child", "Children", "StartupError", "descendants", "free_port", "peak_rss_kib"]

_PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 5.0


class StartupError(RuntimeError):
    """A child exited or never became reachable; the message carries its log's tail."""


def free_port() -> int:
    """An ephemeral port that was free a moment ago (the child binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Poll ``url`` until anything answers over HTTP (even a 404: the server is listening)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise StartupError(
            f"{self.name} not reachable at {url} after {timeout:.0f} s:\n{self.log_tail()}"
        )


class Children:
    """Start children and stop them all, newest first, however the benchmark ends."""

    def __init__(self, log_dir: Path, cwd: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd  # the repository root, so ``python -m bench.peers...`` imports
        self._children: list[Child] = []

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads are running here)
            )
        child = Child(name, process, log)
        self._children.append(child)
        return child

    def stop(self, child: Child) -> None:
        """SIGTERM the child's process group, then SIGKILL it if it lingers."""
        if child in self._children:
            self._children.remove(child)
        _signal_group(child.process, signal.SIGTERM)
        try:
            child.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(child.process, signal.SIGKILL)
            child.process.wait(timeout=STOP_GRACE_S)
        _signal_group(child.process, signal.SIGKILL)  # forked workers the leader left behind

    def stop_all(self) -> None:
        for child in reversed(list(self._children)):
            with contextlib.suppress(Exception):
                self.stop(child)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)  # start_new_session: the group id is the child's pid


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (gateway workers, say), depth first."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in task.read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def peak_rss_kib(pid: int) -> int | None:
    """Peak resident set size (VmHWM) of ``pid`` plus its descendants, in KiB; None off Linux.

    VmHWM is the kernel's own high-water mark, so no sampling can miss a short peak. For a
    process tree (gateway workers) it is the sum of each process's peak.
    """
    total, seen = 0, False
    for member in (pid, *descendants(pid)):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
                    seen = True
    return total if seen else None
