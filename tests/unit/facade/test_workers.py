"""The line from a worker to its supervisor: asking for the other workers to reload, over a pipe."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from facade.workers import SUPERVISOR_FD_ENV, SupervisorLink, _requesters


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe set up as the supervisor sets it up: the write end never blocks."""
    inbox, requests = os.pipe()
    os.set_blocking(requests, False)
    yield inbox, requests
    for fd in (inbox, requests):
        with contextlib.suppress(OSError):  # a test closed it already
            os.close(fd)


def test_a_process_not_started_by_a_supervisor_has_no_link() -> None:
    """Without the environment variable a gateway is a single process and asks nobody."""
    assert SupervisorLink.from_environment({}) is None


def test_a_variable_that_names_no_pipe_is_ignored(tmp_path: Path) -> None:
    """A stray value (not a number, or a plain file) gives no link rather than writes into it."""
    with (tmp_path / "file").open("w") as plain:
        for value in ("three", str(plain.fileno())):
            assert SupervisorLink.from_environment({SUPERVISOR_FD_ENV: value}) is None


def test_a_reload_request_reaches_the_supervisor_naming_the_worker(pipe: tuple[int, int]) -> None:
    """What a worker writes, the supervisor reads back as that worker's pid."""
    inbox, requests = pipe
    link = SupervisorLink.from_environment({SUPERVISOR_FD_ENV: str(requests)})
    assert link is not None

    assert link.ask_to_reload_others() is True

    assert _requesters(bytearray(os.read(inbox, 4096))) == [os.getpid()]


def test_requests_split_across_reads_are_reassembled() -> None:
    """A line cut between two reads is kept until its end arrives; unknown lines are dropped."""
    pending = bytearray(b"reload 12\nhello\nrel")
    assert _requesters(pending) == [12]
    pending += b"oad 34\n"
    assert _requesters(pending) == [34]
    assert pending == b""


def test_a_supervisor_that_is_gone_is_reported_not_raised(pipe: tuple[int, int]) -> None:
    """With nobody reading the pipe the request fails, and the worker is told so."""
    inbox, requests = pipe
    os.close(inbox)
    assert SupervisorLink(requests).ask_to_reload_others() is False


def test_a_full_pipe_does_not_block_the_worker(pipe: tuple[int, int]) -> None:
    """A supervisor that stopped reading cannot stall a worker's event loop: the request fails."""
    _, requests = pipe
    while True:
        try:
            os.write(requests, b"x" * 4096)
        except BlockingIOError:
            break
    assert SupervisorLink(requests).ask_to_reload_others() is False
