"""Several gateway processes on one port (SO_REUSEPORT), supervised.

The kernel spreads connections over the workers; they share nothing in memory and everything
durable through the store (cache, idempotency, outbox). The supervisor starts N workers, passes
SIGINT/SIGTERM on to them (and SIGHUP, so every worker reloads its configuration), and restarts one that dies, at most once every few seconds, so a
crash loop does not spin.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import structlog

__all__ = ["free_port", "supervise"]

log = structlog.get_logger("veneer.workers")
_RESTART_PAUSE_S = 2.0


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _spawn(config: Path, host: str, port: int) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(command)


def supervise(config: Path, host: str, port: int, workers: int) -> int:
    """Run ``workers`` gateway processes until a signal; returns the exit status."""
    if port == 0:
        port = free_port(host)  # every worker must bind the same, concrete port
    processes = [_spawn(config, host, port) for _ in range(workers)]
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
    while not stopping:
        time.sleep(0.2)
        for index, process in enumerate(processes):
            if process.poll() is None or stopping:
                continue
            log.error("worker exited", pid=process.pid, status=process.returncode)
            if time.monotonic() - last_restart < _RESTART_PAUSE_S:
                time.sleep(_RESTART_PAUSE_S)
            last_restart = time.monotonic()
            processes[index] = _spawn(config, host, port)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return 0
