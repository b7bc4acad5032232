"""Real processes for the chaos suite: the sandbox and the gateway, started and always stopped.

Each runs as ``veneer ...`` in its own process with its output in a file (never a pipe: a gateway
logging a warning per failed request would fill a pipe nobody reads and stall). Readiness is
polled with a deadline, and a process that dies while starting fails the test at once with the
tail of its log instead of letting the poll run out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ManagedProcess", "free_port"]

# The installed console script, as operators run it; the module when no script was installed.
_SCRIPT = Path(sys.executable).with_name("veneer")
VENEER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "facade.cli"]
_STOP_GRACE_S = 5.0


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; the tiny reuse race is accepted)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ManagedProcess:
    """One ``veneer`` subprocess with its log file; ``stop`` is safe to call any number of times."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(
        cls, name: str, args: list[str], *, log_dir: Path, env: dict[str, str] | None = None
    ) -> ManagedProcess:
        log_path = log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*VENEER, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
            )
        return cls(name, process, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_serving(self, url: str, *, within_s: float = 20.0) -> None:
        """Poll ``url`` until it answers 200; fail fast if the process exits first."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode} while starting:\n"
                    + self.log_tail()
                )
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=1.0) as reply,
            ):
                if reply.status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(
            f"{self.name} did not serve {url} within {within_s}s:\n" + self.log_tail()
        )

    def kill_hard(self) -> None:
        """SIGKILL: no shutdown handler runs, as when a host loses power or the OOM killer acts."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=_STOP_GRACE_S)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; always reaps the process."""
        self.terminate()
        self.reap()

    def terminate(self) -> None:
        """Ask the process to shut down (SIGTERM), without waiting for it."""
        if self.process.poll() is None:
            self.process.terminate()

    def reap(self) -> None:
        """Wait for the process to end, SIGKILLing it when the grace period runs out."""
        try:
            self.process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=_STOP_GRACE_S)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
