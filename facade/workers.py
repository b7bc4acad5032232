"""Several gateway processes on one port (SO_REUSEPORT), supervised, on one configuration.

The kernel spreads connections over the workers; they share nothing in memory and everything
durable through the store (cache, idempotency, outbox). The supervisor starts N workers, passes
SIGINT/SIGTERM on to them, and restarts one that dies, at most once every few seconds, so a crash
loop does not spin.

Each worker holds its own configuration, so a reload must reach all of them, whichever process
was asked and whenever the file changes (architecture decision 39):

- A worker that applies a reload (``POST /ops/reload``, or SIGHUP sent to it or to the
  supervisor) writes ``reload <pid> <digest>`` to a pipe the supervisor gave every worker (its
  write end's number is in ``VENEER_SUPERVISOR_FD``). The digest is the SHA-256 of the file's
  bytes it applied.
- The supervisor writes the same line to every *other* worker's inbox, a pipe of its own per
  worker (the read end's number is in ``VENEER_WORKER_INBOX_FD``). SIGHUP to the supervisor is
  handed to one worker, which then passes it on like any other.
- A worker told of a reload reloads too. If the file it reads has another digest, the file
  changed after the first worker read it, and it passes its own reload on in turn, so every
  worker ends on the newest version, the first one included.
- A worker announces ``started <pid> <digest>`` once it serves. One restarted after the file
  was edited without a reload serves other bytes than the rest: the supervisor then has the
  others reload, so they do not stay split between two versions (:class:`Relay`).

Pipes rather than signals: a signal says neither who sent it nor which version it means. The
inbox also tells a worker its supervisor is gone (only the supervisor holds its write end open):
the worker then stops, rather than hold the port beside a restarted supervisor's workers.
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

import structlog

from facade.worker_metrics import METRICS_DIR_ENV, WORKER_SLOT_ENV, run_directory

__all__ = [
    "SUPERVISOR_FD_ENV",
    "WORKER_INBOX_FD_ENV",
    "Notice",
    "Relay",
    "SupervisorLink",
    "WorkerInbox",
    "free_port",
    "read_notices",
    "supervise",
]

log = structlog.get_logger("veneer.workers")
_RESTART_PAUSE_S = 2.0
_TICK_S = 0.2
#: set by the supervisor in each worker's environment: the write end of the supervisor's pipe
SUPERVISOR_FD_ENV = "VENEER_SUPERVISOR_FD"
#: set by the supervisor in each worker's environment: the read end of that worker's inbox
WORKER_INBOX_FD_ENV = "VENEER_WORKER_INBOX_FD"
NoticeKind = Literal["reload", "started"]
_KINDS = frozenset(kind.encode("ascii") for kind in get_args(NoticeKind))


@dataclass(frozen=True)
class Notice:
    """What one process tells another about worker ``pid`` and the file it serves.

    ``reload``: the worker applied a reload from the file whose bytes hash to ``digest``.
    ``started``: the worker started serving that file.
    """

    kind: NoticeKind
    pid: int
    digest: str

    def line(self) -> bytes:
        return f"{self.kind} {self.pid} {self.digest}\n".encode("ascii")


def read_notices(buffer: bytearray) -> list[Notice]:
    """The complete ``<kind> <pid> <digest>`` lines in ``buffer``, which keeps the rest."""
    *lines, rest = bytes(buffer).split(b"\n")
    buffer[:] = rest
    notices = []
    for line in lines:
        parts = line.split(b" ")
        if len(parts) == 3 and parts[0] in _KINDS and parts[1].isdigit() and parts[2].isalnum():
            kind = cast(NoticeKind, parts[0].decode("ascii"))
            notices.append(Notice(kind, int(parts[1]), parts[2].decode("ascii")))
        else:
            log.warning(
                "unknown message on a worker pipe, ignored",
                line=line[:80].decode("ascii", "replace"),
            )
    return notices


def _pipe_from(environ: Mapping[str, str] | None, name: str) -> int | None:
    """The pipe descriptor named by environment variable ``name``; None if absent or no pipe."""
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        return None
    try:
        fd = int(value)
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            return fd
    except (ValueError, OSError):
        pass
    log.warning("the variable names no pipe from a supervisor: ignored", variable=name, value=value)
    return None


class SupervisorLink:
    """A worker's line to the supervisor that started it: how it passes a reload on."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SupervisorLink | None:
        """The link, if this process is a worker of ``serve --workers N``; None otherwise."""
        fd = _pipe_from(environ, SUPERVISOR_FD_ENV)
        return None if fd is None else cls(fd)

    def ask_to_reload_others(self, digest: str) -> bool:
        """Ask the supervisor to tell every other worker of a reload from ``digest``; never blocks.

        False when the request could not be written (the supervisor is gone, or so far behind
        that its pipe is full).
        """
        return self._tell(Notice("reload", os.getpid(), digest))

    def announce(self, digest: str) -> bool:
        """Tell the supervisor this worker now serves the file whose bytes hash to ``digest``."""
        return self._tell(Notice("started", os.getpid(), digest))

    def _tell(self, notice: Notice) -> bool:
        try:
            os.write(self.fd, notice.line())
        except OSError as exc:
            log.error("cannot reach the supervisor", error=f"{type(exc).__name__}: {exc}")
            return False
        return True


class WorkerInbox:
    """A worker's end of its inbox: the reloads other workers applied, as the supervisor relays them."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerInbox | None:
        """The inbox, if this process is a worker of ``serve --workers N``; None otherwise."""
        fd = _pipe_from(environ, WORKER_INBOX_FD_ENV)
        return None if fd is None else cls(fd)

    def listen(self, on_reload: Callable[[Notice], None], on_orphaned: Callable[[], None]) -> None:
        """Call ``on_reload`` on the running loop for every reload notice that arrives, and
        ``on_orphaned`` once if the supervisor goes away (only it holds the inbox open)."""
        os.set_blocking(self.fd, False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._readable, on_reload, on_orphaned)

    @property
    def listening(self) -> bool:
        return self._loop is not None

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._loop = None

    def _readable(
        self, on_reload: Callable[[Notice], None], on_orphaned: Callable[[], None]
    ) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        if not data:  # the supervisor is gone: nothing more will come
            self.close()
            on_orphaned()
            return
        self._pending += data
        for notice in read_notices(self._pending):
            if notice.kind == "reload":
                on_reload(notice)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    inbox: int  # the write end of its inbox (non-blocking)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        os.close(self.inbox)


def _spawn(config: Path, host: str, port: int, requests: int, slot: int, metrics: Path) -> _Worker:
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
    inbox, inbox_writer = os.pipe()
    os.set_blocking(inbox_writer, False)
    environment = {
        **os.environ,
        SUPERVISOR_FD_ENV: str(requests),
        WORKER_INBOX_FD_ENV: str(inbox),
        METRICS_DIR_ENV: str(metrics),
        WORKER_SLOT_ENV: str(slot),
    }
    try:
        process = subprocess.Popen(command, pass_fds=(requests, inbox), env=environment)
    except BaseException:
        os.close(inbox_writer)
        raise
    finally:
        os.close(inbox)
    return _Worker(process, inbox_writer)


def supervise(config: Path, host: str, port: int, workers: int) -> int:
    """Run ``workers`` gateway processes until a signal; returns the exit status."""
    if port == 0:
        port = free_port(host)  # every worker must bind the same, concrete port
    # Workers write requests to this pipe; neither end may ever block (a worker's event loop,
    # the supervisor's loop), and only the workers inherit the write end.
    inbox, requests = os.pipe()
    os.set_blocking(inbox, False)
    os.set_blocking(requests, False)
    # Each worker writes its numbers here; a scrape of any of them adds up all (worker_metrics).
    metrics = run_directory()
    crew = [_spawn(config, host, port, requests, slot, metrics) for slot in range(workers)]
    relay = Relay(crew)
    log.info(
        "workers started",
        count=workers,
        url=f"http://{host}:{port}",
        pids=[w.process.pid for w in crew],
    )
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in crew:
            if worker.alive:
                worker.process.send_signal(signum)

    def hangup(signum: int, _frame: object) -> None:
        # One worker reloads and passes it on with its digest, as if it had been asked itself.
        for worker in crew:
            if worker.alive:
                worker.process.send_signal(signum)
                return

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, hangup)
    last_restart = 0.0
    pending = bytearray()
    while not stopping:
        readable, _, _ = select.select([inbox], [], [], _TICK_S)
        if readable:
            pending += _read_available(inbox)
            for notice in read_notices(pending):
                relay.handle(notice)
        for index, worker in enumerate(crew):
            if worker.alive or stopping:
                continue
            log.error("worker exited", pid=worker.process.pid, status=worker.process.returncode)
            if time.monotonic() - last_restart < _RESTART_PAUSE_S:
                time.sleep(_RESTART_PAUSE_S)
            last_restart = time.monotonic()
            worker.close()
            crew[index] = _spawn(config, host, port, requests, index, metrics)
            log.info("worker restarted", pid=crew[index].process.pid, replaces=worker.process.pid)
    deadline = time.monotonic() + 15
    for worker in crew:
        try:
            worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
        worker.close()
    os.close(inbox)
    os.close(requests)
    shutil.rmtree(metrics, ignore_errors=True)
    return 0


def _read_available(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


class Relay:
    """The supervisor's side of the notices: which file the workers serve, and who must reload.

    ``serving`` is the digest of the file the workers were last known to serve: the first
    worker's at startup, then every reload's. A reload is passed on to the other workers. A
    worker that starts on another file (restarted after the file was edited, but not reloaded)
    would leave the workers split between two versions, so the others are told to reload as
    if it had reloaded: all of them then serve the file as it is on disk.
    """

    def __init__(self, crew: list[_Worker]) -> None:
        self.crew = crew  # the supervisor's list: restarts replace entries in place
        self.serving: str | None = None

    def handle(self, notice: Notice) -> None:
        known, self.serving = self.serving, notice.digest
        if notice.kind == "started":
            if known is None or known == notice.digest:
                return
            log.warning(
                "a worker started on a file the others do not serve: they reload to match",
                pid=notice.pid,
                digest=notice.digest[:12],
                others_serve=known[:12],
            )
        pass_on(self.crew, Notice("reload", notice.pid, notice.digest))


def pass_on(crew: list[_Worker], notice: Notice) -> None:
    """Tell every live worker but the one that sent ``notice`` of its reload.

    A worker whose inbox cannot take the line (full, or gone) gets SIGHUP instead: it reloads
    and passes its own digest on, which reaches the same end by one more round.
    """
    told, signalled = [], []
    for worker in crew:
        if worker.process.pid == notice.pid or not worker.alive:
            continue
        try:
            os.write(worker.inbox, notice.line())
            told.append(worker.process.pid)
        except OSError:
            worker.process.send_signal(signal.SIGHUP)
            signalled.append(worker.process.pid)
    log.info(
        "reload passed on to the other workers",
        requested_by=notice.pid,
        digest=notice.digest[:12],
        pids=told + signalled,
        **({"by_signal": signalled} if signalled else {}),
    )
