"""Several gateway processes on one port (SO_REUSEPORT), supervised.

The kernel spreads connections over the workers; they share nothing in memory and everything
durable through the store (cache, idempotency, outbox). The supervisor starts N workers, passes
SIGINT/SIGTERM on to them (and SIGHUP, so every worker reloads its configuration), and restarts
one that dies, at most once every few seconds, so a crash loop does not spin.

A reload asked of one worker over HTTP reaches only that worker's socket, so the worker passes it
on: it writes ``reload <pid>`` to a pipe the supervisor gave every worker (its write end's number
is in ``VENEER_SUPERVISOR_FD``), and the supervisor sends SIGHUP to every *other* live worker.
A pipe rather than a signal, because a signal would not say which worker sent it: the sender
already runs the new configuration and need not reload it twice.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import structlog

__all__ = ["SUPERVISOR_FD_ENV", "SupervisorLink", "free_port", "supervise"]

log = structlog.get_logger("veneer.workers")
_RESTART_PAUSE_S = 2.0
_TICK_S = 0.2
#: set by the supervisor in each worker's environment: the write end of its request pipe
SUPERVISOR_FD_ENV = "VENEER_SUPERVISOR_FD"
_RELOAD = b"reload"


class SupervisorLink:
    """A worker's line to the supervisor that started it: how it asks the others to reload."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SupervisorLink | None:
        """The link, if this process is a worker of ``serve --workers N``; None otherwise."""
        value = (os.environ if environ is None else environ).get(SUPERVISOR_FD_ENV)
        if not value:
            return None
        try:
            fd = int(value)
            is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
        except (ValueError, OSError):
            is_pipe = False
        if not is_pipe:
            log.warning(
                "VENEER_SUPERVISOR_FD names no pipe from a supervisor: ignored", value=value
            )
            return None
        return cls(fd)

    def ask_to_reload_others(self) -> bool:
        """Ask the supervisor to send SIGHUP to every other worker; never blocks.

        False when the request could not be written (the supervisor is gone, or so far behind
        that its pipe is full).
        """
        try:
            os.write(self.fd, _RELOAD + b" %d\n" % os.getpid())
        except OSError as exc:
            log.error("cannot reach the supervisor", error=f"{type(exc).__name__}: {exc}")
            return False
        return True


def _requesters(buffer: bytearray) -> list[int]:
    """The pids of the complete ``reload <pid>`` lines in ``buffer``, which keeps the rest."""
    *lines, rest = bytes(buffer).split(b"\n")
    buffer[:] = rest
    pids = []
    for line in lines:
        verb, _, pid = line.partition(b" ")
        if verb == _RELOAD and pid.isdigit():
            pids.append(int(pid))
        else:
            log.warning(
                "unknown request from a worker, ignored", line=line[:80].decode("ascii", "replace")
            )
    return pids


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _spawn(config: Path, host: str, port: int, requests: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "facade.cli",
        "serve",
        "--config",
        str(config),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--reuse-port",
    ]
    environment = {**os.environ, SUPERVISOR_FD_ENV: str(requests)}
    return subprocess.Popen(command, pass_fds=(requests,), env=environment)


def supervise(config: Path, host: str, port: int, workers: int) -> int:
    """Run ``workers`` gateway processes until a signal; returns the exit status."""
    if port == 0:
        port = free_port(host)  # every worker must bind the same, concrete port
    # Workers write requests to this pipe; neither end may ever block (a worker's event loop,
    # the supervisor's loop), and only the workers inherit the write end.
    inbox, requests = os.pipe()
    os.set_blocking(inbox, False)
    os.set_blocking(requests, False)
    processes = [_spawn(config, host, port, requests) for _ in range(workers)]
    log.info(
        "workers started",
        count=workers,
        url=f"http://{host}:{port}",
        pids=[p.pid for p in processes],
    )
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    def hangup(signum: int, _frame: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, hangup)
    last_restart = 0.0
    pending = bytearray()
    while not stopping:
        readable, _, _ = select.select([inbox], [], [], _TICK_S)
        if readable:
            pending += _read_available(inbox)
            for requester in _requesters(pending):
                _reload_others(processes, requester)
        for index, process in enumerate(processes):
            if process.poll() is None or stopping:
                continue
            log.error("worker exited", pid=process.pid, status=process.returncode)
            if time.monotonic() - last_restart < _RESTART_PAUSE_S:
                time.sleep(_RESTART_PAUSE_S)
            last_restart = time.monotonic()
            processes[index] = _spawn(config, host, port, requests)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    os.close(inbox)
    os.close(requests)
    return 0


def _read_available(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def _reload_others(processes: list[subprocess.Popen[bytes]], requester: int) -> None:
    """SIGHUP to every live worker but ``requester``, which has already reloaded."""
    others = [p for p in processes if p.pid != requester and p.poll() is None]
    for process in others:
        process.send_signal(signal.SIGHUP)
    log.info(
        "reload passed on to the other workers",
        requested_by=requester,
        pids=[p.pid for p in others],
    )
