"""The CPU window: what the watched processes used while it was open."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.cpu import CpuWindow, process_cpu_s


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_the_window_accounts_the_cpu_a_watched_process_burned_inside_it() -> None:
    """Busy work inside the window shows as that party's CPU seconds; a sleeping party's stay ~0."""
    me = os.getpid()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        window = CpuWindow(lambda: [], watched=lambda: {"target": [me], "idle": [sleeper.pid]})
        with window:
            start = process_cpu_s(me)
            while process_cpu_s(me) - start < 0.1:  # burn ~0.1 s of CPU, read in clock ticks
                sum(range(10_000))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert set(window.used_s) == {"target", "idle"}
    assert window.used_s["target"] >= 0.1
    assert window.used_s["idle"] < 0.02
