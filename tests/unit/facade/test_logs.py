"""Log output: JSON lines for machines, readable lines on a terminal."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import structlog

from facade.logs import (
    _MAX_PENDING,
    _PIPE_BUF,
    ACCESS_LOG,
    LogThrottle,
    configure_logging,
    write_whole_lines,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_when_not_a_terminal() -> None:
    """With format auto and a non-TTY stream, each event is one JSON object with level and UTC time."""
    stream = io.StringIO()
    configure_logging("info", "auto", stream)
    structlog.contextvars.bind_contextvars(request_id="r-1")
    structlog.get_logger("t").info("hello", backend="erp")
    structlog.get_logger("t").debug("hidden")
    structlog.contextvars.clear_contextvars()
    (line,) = stream.getvalue().splitlines()
    event = orjson.loads(line)
    assert event["event"] == "hello"
    assert event["backend"] == "erp"
    assert event["request_id"] == "r-1"
    assert event["level"] == "info"
    assert event["ts"].endswith("Z")


def test_readable_console_lines_on_a_terminal() -> None:
    """With format auto on a TTY, lines are rendered for people, not as JSON."""
    stream = Terminal()
    configure_logging("info", "auto", stream)
    structlog.get_logger("t").info("hello", backend="erp")
    text = stream.getvalue()
    assert "hello" in text and "backend" in text
    assert not text.lstrip().startswith("{")


def test_a_log_throttle_says_once_per_interval_and_counts_what_it_held_back() -> None:
    """Within its interval a throttle stays quiet per key; the next line it admits carries the count."""
    now = [100.0]
    throttle = LogThrottle(every_s=1.0, clock=lambda: now[0])
    assert throttle.admit("erp") == 0
    assert [throttle.admit("erp") for _ in range(3)] == [None, None, None]
    assert throttle.admit("crm") == 0  # keys are independent
    now[0] += 0.999
    assert throttle.admit("erp") is None
    now[0] += 0.001
    assert throttle.admit("erp") == 4
    assert throttle.admit("erp") is None


#: A worker of `serve --workers N`, as far as logging goes: JSON lines on the shared stderr. It
#: says "ready" once imported and configured, and logs when told to go (one line on stdin).
_LOGGING_WORKER = """
import sys
from facade.logs import configure_logging
import structlog
configure_logging("info", "json")
print("ready", flush=True)
sys.stdin.readline()
for i in range(2000):
    structlog.get_logger("w").error("a line long enough to be written in pieces", i=i)
"""


def test_processes_sharing_stderr_never_interleave_their_lines(tmp_path: Path) -> None:
    """Two processes logging at once into one file (as workers share the supervisor's stderr)
    leave only whole JSON lines: each line is one write."""
    log = tmp_path / "shared.log"
    with log.open("ab") as shared:
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", _LOGGING_WORKER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=shared,
            )
            for _ in range(2)
        ]
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        for writer in writers:  # both are ready: let them log at the same moment
            assert writer.stdin is not None
            writer.stdin.write(b"go\n")
            writer.stdin.close()
        for writer in writers:
            assert writer.wait(timeout=30) == 0
            assert writer.stdout is not None
            writer.stdout.close()
    lines = log.read_bytes().splitlines()
    assert len(lines) == 4000
    assert all(orjson.loads(line)["event"].startswith("a line long") for line in lines)


class _RecordingRaw(io.BytesIO):
    """A byte stream that remembers each write it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


def test_whole_lines_are_written_in_pieces_a_pipe_keeps_whole() -> None:
    """A long batch of lines goes out in writes of whole lines of at most PIPE_BUF bytes, a
    line longer than that alone, and nothing is lost or reordered."""
    raw = _RecordingRaw()
    stream = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")  # type: ignore[arg-type]
    long_line = "é" * (_PIPE_BUF + 10)  # longer than one atomic write, in bytes twice over
    lines = [f'{{"n":{i},"pad":"{"x" * (i % 300)}"}}' for i in range(200)]
    lines.insert(50, long_line)
    text = "\n".join(lines) + "\n"
    write_whole_lines(stream, text)
    assert b"".join(raw.writes).decode() == text
    for piece in raw.writes:
        assert piece.endswith(b"\n")
        assert len(piece) <= _PIPE_BUF or piece.count(b"\n") == 1
    assert len(raw.writes) > 1


async def test_access_lines_linger_and_leave_together() -> None:
    """With a linger, a line waits on a loop timer set that far ahead instead of leaving at the
    end of its loop turn; reaching the cap sends every waiting line at once."""
    stream = io.StringIO()
    ACCESS_LOG.configure(stream, linger_s=0.5)
    loop = asyncio.get_running_loop()
    try:
        ACCESS_LOG.emit({"event": "request", "n": 0})
        for _ in range(5):
            await asyncio.sleep(0)
        assert stream.getvalue() == ""
        timers = [
            h.when() - loop.time()
            for h in loop._scheduled  # type: ignore[attr-defined]
            if not h.cancelled()
        ]
        assert any(0.4 < left <= 0.5 for left in timers)
        for n in range(1, _MAX_PENDING):
            ACCESS_LOG.emit({"event": "request", "n": n})
        assert [orjson.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(
            range(_MAX_PENDING)
        )
    finally:
        ACCESS_LOG.configure(None)


#: A process whose access lines linger: it writes one and ends at once, before the linger.
_LINGERING_EXIT = """
import asyncio
from facade.logs import ACCESS_LOG, configure_logging
configure_logging("info", "json", access_linger_s=60.0)
async def main():
    ACCESS_LOG.emit({"event": "request", "last": True})
asyncio.run(main())
"""


def test_lines_still_lingering_are_written_when_the_process_ends() -> None:
    """A line waiting out its linger when the process exits is written on the way out."""
    done = subprocess.run(
        [sys.executable, "-c", _LINGERING_EXIT], capture_output=True, timeout=30, check=True
    )
    assert orjson.loads(done.stderr.splitlines()[-1])["last"] is True


#: A worker's access lines, lingering and leaving in large batches into a shared pipe.
_ACCESS_WORKER = """
import asyncio, sys
from facade.logs import ACCESS_LOG, configure_logging
configure_logging("info", "json", access_linger_s=0.005)
print("ready", flush=True)
sys.stdin.readline()
async def main():
    for i in range(3000):
        ACCESS_LOG.emit({"event": "request", "path": "/api/v1/orders/" + "x" * (i % 200), "i": i})
        if i % 100 == 0:
            await asyncio.sleep(0.001)
asyncio.run(main())
"""


def test_workers_batching_access_lines_into_one_pipe_never_split_a_line() -> None:
    """Two processes whose access lines leave in batches of many kilobytes, into one pipe (as
    workers share a supervisor's stderr piped to a log shipper): every line arrives whole."""
    read_end, write_end = os.pipe()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _ACCESS_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=write_end,
        )
        for _ in range(2)
    ]
    os.close(write_end)
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        writer.stdin.close()
    with os.fdopen(read_end, "rb") as shared:
        received = b""
        while chunk := shared.read(4096):  # a slow reader: the writers find the pipe full
            received += chunk
            time.sleep(0.0005)
    for writer in writers:
        assert writer.wait(timeout=30) == 0
        assert writer.stdout is not None
        writer.stdout.close()
    lines = received.splitlines()
    assert len(lines) == 6000
    assert sorted(orjson.loads(line)["i"] for line in lines) == sorted(list(range(3000)) * 2)
