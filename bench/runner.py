"""One benchmark run: start what the selected scenarios need, measure each, collect the results.

A scenario that cannot run (its process would not start, its route does not answer 2xx, the
gateway lacks the capability) is recorded as such and the run goes on: one broken route must
not cost the other numbers. Whatever happens, every child process is stopped on the way out.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.breaker import run_breaker
from bench.coldgets import run_cold_gets
from bench.cpu import CpuWindow
from bench.credentials import get
from bench.drivers import LoadDriver, LoadError
from bench.machine import REPO, describe_machine
from bench.procs import Children, StartupError, peak_rss_kib
from bench.results import FAILED, SKIPPED, UNAVAILABLE, ColdGets, RunResult, ScenarioResult
from bench.scenarios import COLD_CONCURRENCY, COLD_ORDER, Scenario
from bench.stack import Stack, missing_capabilities

__all__ = ["Plan", "run"]

STARTUP_ALLOWANCE_S = 15.0  # what a scenario may spend starting its processes


@dataclass(frozen=True)
class Plan:
    mode: str  # full | quick
    duration: float  # measured seconds per scenario
    warmup: float  # unmeasured seconds of the same load before it (0: none)
    breaker_prime: float  # seconds of load with the ERP down before measuring
    budget_s: float  # the run stops starting scenarios when this is spent
    hard_limit_s: float  # and is aborted (processes stopped, no report) at this point
    connections: int = 64
    threads: int = 2

    @classmethod
    def full(cls) -> Plan:
        return cls("full", duration=10, warmup=2, breaker_prime=2, budget_s=540, hard_limit_s=585)

    @classmethod
    def quick(cls) -> Plan:
        return cls("quick", duration=3, warmup=0, breaker_prime=1, budget_s=95, hard_limit_s=115)


def _progress(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {text}", file=sys.stderr, flush=True)


def _measure(stack: Stack, driver: LoadDriver, plan: Plan, spec: Scenario) -> ScenarioResult:
    result = ScenarioResult(spec.name, spec.label, spec.group)
    result.url = url = stack.url(spec.service) + spec.path
    control = stack.control
    window = CpuWindow(stack.pids, watched=lambda: stack.parties(spec.service))
    status, body = get(url)  # the route works (for the breaker: while the ERP is up); warms caches
    if not 200 <= status < 300:
        result.status = FAILED
        result.note = f"GET {spec.path} answered {status}: {body[:200].decode(errors='replace')}"
        return result
    if spec.breaker:
        return run_breaker(
            result, url, control, driver, window, prime_s=plan.breaker_prime, duration=plan.duration
        )
    if plan.warmup:
        driver.measure(url, plan.warmup)
    before = control.requests()
    with window:
        result.load = driver.measure(url, plan.duration, spec.partial_marker)
    after = control.requests()
    result.foreign_cpu_cores = window.foreign_cores
    result.cpu_s = window.used_s
    if result.load.marked:
        share = result.load.marked / max(result.load.requests, 1)
        result.note = (
            f"{result.load.marked:,} answers ({share:.0%}) were partial: an include was unavailable"
        )
    result.backend_calls = {name: after[name] - before[name] for name in after}
    return result


def _summary(result: ScenarioResult) -> str:
    if result.load is None:
        return f"{result.name}: {result.status}" + (f" ({result.note})" if result.note else "")
    load = result.load
    return (
        f"{result.name}: {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms"
        + (f", {load.non_2xx + load.errors:,} failed" if load.non_2xx + load.errors else "")
    )


def run(
    plan: Plan, specs: list[Scenario], cold_gets: bool, driver: LoadDriver, workdir: Path
) -> RunResult:
    started = time.monotonic()
    result = RunResult(
        meta={
            **describe_machine(),
            "mode": plan.mode,
            "duration_s": plan.duration,
            "warmup_s": plan.warmup,
            "breaker_prime_s": plan.breaker_prime,
            "connections": driver.connections,
            "threads": plan.threads if driver.name == "wrk" else 1,
            "loadgen": driver.describe(),
        }
    )
    missing = missing_capabilities()
    ordinary = [s for s in specs if not s.breaker]
    with Children(workdir / "logs", REPO) as children:
        stack = Stack(children, workdir)
        try:
            for spec in ordinary:
                result.scenarios.append(_one(stack, driver, plan, spec, missing, started))
            if cold_gets:
                result.cold_gets = _cold(stack, started)
            for spec in (s for s in specs if s.breaker):
                result.scenarios.append(_one(stack, driver, plan, spec, missing, started))
        finally:
            result.peak_rss_kib = {
                name: kib
                for name, child in stack.started.items()
                if (kib := peak_rss_kib(child.pid)) is not None
            }
    result.meta["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def _one(
    stack: Stack,
    driver: LoadDriver,
    plan: Plan,
    spec: Scenario,
    missing: dict[str, str],
    started: float,
) -> ScenarioResult:
    if spec.requires in missing:
        outcome = ScenarioResult(spec.name, spec.label, spec.group, UNAVAILABLE)
        outcome.note = missing[spec.requires]
    elif time.monotonic() - started + plan.duration + plan.warmup + STARTUP_ALLOWANCE_S > (
        plan.budget_s
    ):
        outcome = ScenarioResult(spec.name, spec.label, spec.group, SKIPPED)
        outcome.note = f"out of the {plan.budget_s:.0f} s time budget"
    else:
        try:
            outcome = _measure(stack, driver, plan, spec)
        except (StartupError, LoadError, OSError) as exc:
            outcome = ScenarioResult(spec.name, spec.label, spec.group, FAILED, note=str(exc))
    _progress(started, _summary(outcome))
    return outcome


def _cold(stack: Stack, started: float) -> ColdGets:
    path = f"/api/v1/orders/{COLD_ORDER}"
    try:
        cold = run_cold_gets(
            stack.url("gateway-cached"), path, stack.control, "erp", COLD_CONCURRENCY
        )
    except (StartupError, OSError) as exc:
        cold = ColdGets(COLD_CONCURRENCY, status=FAILED, note=str(exc))
    _progress(
        started,
        f"{COLD_CONCURRENCY} cold GETs: {cold.backend_calls} backend calls, {cold.statuses}",
    )
    return cold
