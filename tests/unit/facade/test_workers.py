"""The pipes between workers and their supervisor: reloads passed on, with the file's digest."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from facade.workers import (
    SUPERVISOR_FD_ENV,
    WORKER_INBOX_FD_ENV,
    Notice,
    Relay,
    SupervisorLink,
    WorkerInbox,
    _Worker,
    pass_on,
    read_notices,
)

DIGEST = "ab" * 32


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe set up as the supervisor sets it up: the write end never blocks."""
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    yield reader, writer
    for fd in (reader, writer):
        with contextlib.suppress(OSError):  # a test closed it already
            os.close(fd)


def fill(fd: int) -> None:
    """Write to a non-blocking pipe until it takes no more."""
    while True:
        try:
            os.write(fd, b"x" * 4096)
        except BlockingIOError:
            return


#: A stand-in worker: exits with HUP_STATUS on SIGHUP, whatever disposition it inherited (under
#: nohup, SIGHUP arrives ignored), as a worker's own handler would take it.
SLEEPER = (
    "import os, signal, time\n"
    "signal.signal(signal.SIGHUP, lambda *_: os._exit(42))\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)
HUP_STATUS = 42


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Three real processes standing in for workers, each ready for SIGHUP once started."""
    started = [
        subprocess.Popen([sys.executable, "-c", SLEEPER], stdout=subprocess.PIPE) for _ in range(3)
    ]
    for process in started:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    yield started
    for process in started:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_a_process_not_started_by_a_supervisor_has_no_pipes() -> None:
    """Without the environment variables a gateway is a single process: no link, no inbox."""
    assert SupervisorLink.from_environment({}) is None
    assert WorkerInbox.from_environment({}) is None


def test_a_variable_that_names_no_pipe_is_ignored(tmp_path: Path) -> None:
    """A stray value (not a number, or a plain file) gives no pipe rather than reads or writes it."""
    with (tmp_path / "file").open("w") as plain:
        for value in ("three", str(plain.fileno())):
            assert SupervisorLink.from_environment({SUPERVISOR_FD_ENV: value}) is None
            assert WorkerInbox.from_environment({WORKER_INBOX_FD_ENV: value}) is None


def test_a_reload_request_reaches_the_supervisor_naming_the_worker_and_digest(
    pipe: tuple[int, int],
) -> None:
    """What a worker writes, the supervisor reads back as that worker's pid and the file's digest."""
    reader, writer = pipe
    link = SupervisorLink.from_environment({SUPERVISOR_FD_ENV: str(writer)})
    assert link is not None

    assert link.ask_to_reload_others(DIGEST) is True

    assert read_notices(bytearray(os.read(reader, 4096))) == [Notice("reload", os.getpid(), DIGEST)]


def test_requests_split_across_reads_are_reassembled() -> None:
    """A line cut between two reads is kept until its end arrives; malformed lines are dropped."""
    pending = bytearray(b"reload 12 " + DIGEST.encode() + b"\nhello\nreload 5\nrel")
    assert read_notices(pending) == [Notice("reload", 12, DIGEST)]
    pending += b"oad 34 cafe\nstarted 35 beef\n"
    assert read_notices(pending) == [Notice("reload", 34, "cafe"), Notice("started", 35, "beef")]
    assert pending == b""


def test_a_supervisor_that_is_gone_is_reported_not_raised(pipe: tuple[int, int]) -> None:
    """With nobody reading the pipe the request fails, and the worker is told so."""
    reader, writer = pipe
    os.close(reader)
    assert SupervisorLink(writer).ask_to_reload_others(DIGEST) is False


def test_a_full_pipe_does_not_block_the_worker(pipe: tuple[int, int]) -> None:
    """A supervisor that stopped reading cannot stall a worker's event loop: the request fails."""
    _, writer = pipe
    fill(writer)
    assert SupervisorLink(writer).ask_to_reload_others(DIGEST) is False


async def test_the_inbox_hands_each_request_to_the_worker_on_its_loop(
    pipe: tuple[int, int],
) -> None:
    """Reload lines, even cut in two, arrive as notices, other kinds do not; the end of the
    pipe (the supervisor is gone) stops the reading and says so once."""
    reader, writer = pipe
    inbox = WorkerInbox.from_environment({WORKER_INBOX_FD_ENV: str(reader)})
    assert inbox is not None
    arrived: asyncio.Queue[Notice] = asyncio.Queue()
    orphaned = asyncio.Event()
    inbox.listen(arrived.put_nowait, on_orphaned=orphaned.set)

    line = Notice("reload", 7, DIGEST).line()
    os.write(writer, line[:5])
    await asyncio.sleep(0)  # the loop reads the first half, which is no request yet
    os.write(
        writer, line[5:] + Notice("started", 9, "beef").line() + Notice("reload", 8, "cafe").line()
    )
    first = await asyncio.wait_for(arrived.get(), 2)
    second = await asyncio.wait_for(arrived.get(), 2)
    assert not orphaned.is_set()
    os.close(writer)  # what the supervisor's end does when it dies
    await asyncio.wait_for(orphaned.wait(), 2)

    assert (first, second) == (Notice("reload", 7, DIGEST), Notice("reload", 8, "cafe"))
    assert not inbox.listening and arrived.empty()


class Crew:
    """The stand-in workers, each with an inbox pipe, as the supervisor keeps them."""

    def __init__(self, processes: list[subprocess.Popen[bytes]]) -> None:
        self.pipes = [os.pipe() for _ in processes]
        for fds in self.pipes:
            for fd in fds:
                os.set_blocking(fd, False)
        self.workers = [_Worker(p, w) for p, (_, w) in zip(processes, self.pipes, strict=True)]

    def received(self) -> list[bytes]:
        """What each worker's inbox holds now (read off)."""
        return [read(reader) for reader, _ in self.pipes]

    def close(self) -> None:
        for fds in self.pipes:
            for fd in fds:
                os.close(fd)


@pytest.fixture
def crew(sleepers: list[subprocess.Popen[bytes]]) -> Iterator[Crew]:
    built = Crew(sleepers)
    yield built
    built.close()


def test_a_reload_is_passed_to_every_other_live_worker_but_not_back(crew: Crew) -> None:
    """The sender's own inbox and a dead worker's get nothing; every other worker gets the line."""
    sender, _, dead = (worker.process for worker in crew.workers)
    dead.kill()
    dead.wait()

    pass_on(crew.workers, Notice("reload", sender.pid, DIGEST))

    assert crew.received() == [b"", Notice("reload", sender.pid, DIGEST).line(), b""]


def test_a_worker_whose_inbox_is_full_is_sent_sighup_instead(
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    """It cannot be told, so it is signalled: a worker reloads on SIGHUP and passes its own on."""
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    fill(writer)
    crew = [_Worker(sleepers[0], os.dup(writer)), _Worker(sleepers[1], writer)]
    try:
        pass_on(crew, Notice("reload", sleepers[0].pid, DIGEST))

        assert sleepers[1].wait(timeout=5) == HUP_STATUS
        assert sleepers[0].poll() is None
    finally:
        for fd in (reader, writer, crew[0].inbox):
            os.close(fd)


def read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def test_a_worker_restarted_on_an_edited_file_makes_the_others_reload(crew: Crew) -> None:
    """Workers that start on the file in service change nothing; one that starts on other
    bytes (the file was edited, not reloaded) has every other worker told to reload."""
    pids = [worker.process.pid for worker in crew.workers]
    relay = Relay(crew.workers)
    for pid in pids:
        relay.handle(Notice("started", pid, DIGEST))
    assert crew.received() == [b"", b"", b""]

    relay.handle(Notice("started", pids[1], "cafe"))

    told = Notice("reload", pids[1], "cafe").line()
    assert crew.received() == [told, b"", told]
    assert relay.serving == "cafe"


def test_a_reload_notice_is_passed_on_and_becomes_the_file_in_service(crew: Crew) -> None:
    """The relay passes a reload on and remembers its digest: a worker starting on it is in step."""
    pids = [worker.process.pid for worker in crew.workers]
    relay = Relay(crew.workers)
    relay.handle(Notice("started", pids[0], DIGEST))
    relay.handle(Notice("reload", pids[0], "cafe"))
    relay.handle(Notice("started", pids[1], "cafe"))

    told = Notice("reload", pids[0], "cafe").line()
    assert crew.received() == [b"", told, told]
    assert relay.serving == "cafe"
