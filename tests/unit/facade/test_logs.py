"""Log output: JSON lines for machines, readable lines on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import structlog

from facade.logs import LogThrottle, configure_logging


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
