"""Load drivers: wrk when installed, else the built-in asyncio generator; same result either way.

Both run as a separate process with a hard timeout, so a wedged target can cost at most the
scenario's duration plus a grace period, never the whole run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench.loadgen import RESULT_MARKER, LoadResult

__all__ = ["BuiltinDriver", "LoadDriver", "LoadError", "WrkDriver", "pick_driver"]

LUA_SCRIPT = Path(__file__).with_name("wrk_report.lua")
LUA_MARKER_SCRIPT = Path(__file__).with_name("wrk_marker.lua")
REQUEST_TIMEOUT_S = 5
GRACE_S = 30


class LoadError(RuntimeError):
    """The load generator failed or printed no result."""


class LoadDriver(Protocol):
    """Every request a driver sends carries its ``headers`` (the benchmark's credential)."""

    @property
    def name(self) -> str: ...

    @property
    def connections(self) -> int: ...

    def describe(self) -> str: ...

    def measure(self, url: str, duration: float, marker: str = "") -> LoadResult:
        """Load ``url`` for ``duration`` s; with a ``marker``, count bodies containing it."""
        ...


def _result_line(stdout: str, command: list[str], stderr: str) -> dict[str, object]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            data: dict[str, object] = json.loads(line[len(RESULT_MARKER) :])
            return data
    raise LoadError(f"{command[0]} printed no result; stderr: {stderr.strip()[-500:]}")


def _run(command: list[str], duration: float) -> dict[str, object]:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + GRACE_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"{command[0]} did not finish within {duration + GRACE_S:.0f} s") from exc
    return _result_line(done.stdout, command, done.stderr)


def _header_lines(headers: Mapping[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


@dataclass(frozen=True)
class WrkDriver:
    """wrk -t<threads> -c<connections> -d<duration>, summary read through a Lua ``done`` hook."""

    connections: int = 64
    threads: int = 2
    executable: str = "wrk"
    headers: Mapping[str, str] = field(default_factory=dict)
    name: str = "wrk"

    def describe(self) -> str:
        version = subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=False
        )
        first = (version.stdout or version.stderr).splitlines()
        return first[0].split(" Copyright")[0] if first else "wrk"

    def measure(self, url: str, duration: float, marker: str = "") -> LoadResult:
        command = [
            self.executable,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(round(duration), 1)}s",  # wrk takes whole seconds only
            f"--timeout={REQUEST_TIMEOUT_S}s",
            *(f"--header={line}" for line in _header_lines(self.headers)),
            "-s",
            str(LUA_MARKER_SCRIPT if marker else LUA_SCRIPT),
            url,
            *(["--", marker] if marker else []),
        ]
        return wrk_result(_run(command, duration))


def wrk_result(data: dict[str, object]) -> LoadResult:
    """Convert the Lua hook's JSON (microseconds, wrk's error counters) to a LoadResult."""

    def number(key: str) -> int:
        value = data[key]
        assert isinstance(value, int | float), key
        return int(value)

    return LoadResult(
        requests=number("requests"),
        duration_s=number("duration_us") / 1e6,
        p50_ms=number("p50_us") / 1000,
        p99_ms=number("p99_us") / 1000,
        errors=sum(number(key) for key in ("connect", "read", "write", "timeout")),
        non_2xx=number("status"),
        marked=number("marked") if "marked" in data else 0,
    )


@dataclass(frozen=True)
class BuiltinDriver:
    """``python -m bench.loadgen``: the asyncio generator in its own process."""

    connections: int = 64
    headers: Mapping[str, str] = field(default_factory=dict)
    name: str = "builtin"

    def describe(self) -> str:
        return f"bench.loadgen (asyncio + aiohttp, Python {sys.version.split()[0]}, one process)"

    def measure(self, url: str, duration: float, marker: str = "") -> LoadResult:
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            f"--connections={self.connections}",
            f"--duration={duration}",
            f"--timeout={REQUEST_TIMEOUT_S}",
            f"--marker={marker}",
            *(f"--header={line}" for line in _header_lines(self.headers)),
        ]
        return LoadResult.from_json(_run(command, duration))


def pick_driver(
    preference: str, *, connections: int, threads: int, headers: Mapping[str, str]
) -> LoadDriver:
    """``auto`` takes wrk when it is on PATH; ``wrk`` insists on it; ``builtin`` never uses it."""
    wrk = shutil.which("wrk")
    if preference == "wrk" and wrk is None:
        raise LoadError("wrk is not installed (apt-get install -y wrk), or use --loadgen builtin")
    if preference in {"auto", "wrk"} and wrk is not None:
        return WrkDriver(connections, threads, wrk, headers)
    return BuiltinDriver(connections, headers)
