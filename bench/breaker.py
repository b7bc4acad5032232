"""The breaker-open scenario: ERP down, drive until the breaker opens, measure, then prove it.

While the ERP is down nothing reaches it, so its request counter cannot tell an open breaker
from a gateway failing fast on "connection refused" (which is cheap too, and would pass a
latency bound without any breaker). So after the measurement the ERP is brought back in
``error_rate:1`` mode, listening and counting but failing every call, and a few probe GETs are
sent: an open breaker answers them without calling the ERP. The verdict uses that evidence.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from bench.control import SandboxControl
from bench.cpu import CpuWindow
from bench.credentials import get
from bench.drivers import LoadDriver
from bench.results import ScenarioResult

__all__ = ["BREAKER_CONNECTIONS", "PROBES", "run_breaker"]

PROBES = 20
#: Connections of the measured window. With a closed loop of N connections kept busy, latency is
#: N / throughput (Little's law): at 64 it would measure the queue in front of the gateway, not
#: what an open breaker's answer costs. Eight still keep the gateway saturated.
BREAKER_CONNECTIONS = 8
OPEN_STATUS = "503"  # what a breaker-open answer is (docs/errors.md: backend_unavailable)


def _status(url: str) -> str:
    try:
        return str(get(url)[0])
    except OSError as exc:
        return type(exc).__name__


def probe_open(url: str, control: SandboxControl) -> tuple[bool, dict[str, object]]:
    """Whether the gateway answers 503 without calling the (now listening, failing) ERP."""
    control.set_fault("erp", "error_rate:1")
    before = control.requests()["erp"]
    statuses = dict(Counter(_status(url) for _ in range(PROBES)))
    calls = control.requests()["erp"] - before
    opened = calls == 0 and set(statuses) == {OPEN_STATUS}
    return opened, {"probe_gets": PROBES, "probe_erp_calls": calls, "probe_statuses": statuses}


def run_breaker(
    scenario: ScenarioResult,
    url: str,
    control: SandboxControl,
    driver: LoadDriver,
    window: CpuWindow,
    *,
    prime_s: float,
    duration: float,
) -> ScenarioResult:
    """Fill in ``scenario`` (already labelled) with the measurement and the evidence."""
    control.set_fault("erp", "down")
    try:
        primed = driver.measure(url, prime_s)  # far more failures than any breaker threshold
        before = control.requests()
        measuring = dataclasses.replace(driver, connections=BREAKER_CONNECTIONS)  # type: ignore[type-var]
        with window:
            scenario.load = measuring.measure(url, duration)
        after = control.requests()
        opened, evidence = probe_open(url, control)
    finally:
        control.set_fault("erp", "reset")
    scenario.backend_calls = {name: after[name] - before[name] for name in after}
    scenario.foreign_cpu_cores = window.foreign_cores
    scenario.cpu_s = window.used_s
    scenario.evidence = {"breaker_opened": opened, "priming_requests": primed.requests, **evidence}
    calls, statuses = evidence["probe_erp_calls"], evidence["probe_statuses"]
    if opened:
        scenario.note = f"breaker open: the ERP, listening again, got 0 of {PROBES} probe GETs"
    else:
        scenario.note = (
            f"no breaker-open answers seen: after {primed.requests:,} priming requests and the "
            f"measured run, {PROBES} probe GETs answered {statuses} and the ERP (listening "
            f"again) got {calls} calls; the answers measured are not breaker-open answers"
        )
    return scenario
