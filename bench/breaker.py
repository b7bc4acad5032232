"""The breaker-open scenario: ERP down, drive until the breaker opens, measure, then prove it.

While the ERP is down nothing reaches it, so its request counter cannot tell an open breaker
from a gateway failing fast on "connection refused" (which is cheap too, and would pass a
latency bound without any breaker). So after the measurement the ERP is brought back in
``error_rate:1`` mode, listening and counting but failing every call, and a few probe GETs are
sent: an open breaker answers them without calling the ERP. The verdict uses that evidence.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter

from bench.control import SandboxControl
from bench.drivers import LoadDriver
from bench.results import ScenarioResult

__all__ = ["PROBES", "run_breaker"]

PROBES = 20


def _status(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return str(reply.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except OSError as exc:
        return type(exc).__name__


def probe_open(url: str, control: SandboxControl) -> tuple[bool, dict[str, object]]:
    """Whether the gateway answers without calling the (now listening, failing) ERP."""
    control.set_fault("erp", "error_rate:1")
    before = control.requests()["erp"]
    statuses = dict(Counter(_status(url) for _ in range(PROBES)))
    calls = control.requests()["erp"] - before
    return calls == 0, {"probe_gets": PROBES, "probe_erp_calls": calls, "probe_statuses": statuses}


def run_breaker(
    scenario: ScenarioResult,
    url: str,
    control: SandboxControl,
    driver: LoadDriver,
    *,
    prime_s: float,
    duration: float,
) -> ScenarioResult:
    """Fill in ``scenario`` (already labelled) with the measurement and the evidence."""
    control.set_fault("erp", "down")
    try:
        primed = driver.measure(url, prime_s)  # far more failures than any breaker threshold
        before = control.requests()
        scenario.load = driver.measure(url, duration)
        after = control.requests()
        opened, evidence = probe_open(url, control)
    finally:
        control.set_fault("erp", "reset")
    scenario.backend_calls = {name: after[name] - before[name] for name in after}
    scenario.evidence = {"breaker_opened": opened, "priming_requests": primed.requests, **evidence}
    calls = evidence["probe_erp_calls"]
    if opened:
        scenario.note = f"breaker open: the ERP, listening again, got 0 of {PROBES} probe GETs"
    else:
        scenario.note = (
            f"no breaker opened: after {primed.requests:,} priming requests and the measured run, "
            f"the ERP (listening again) still got {calls} calls for {PROBES} probe GETs; the "
            "answers measured are the plain failure path (connection refused → 503)"
        )
    return scenario
