"""One benchmark run: start what the selected scenarios need, measure each, collect the results.

Scenarios are measured in rounds: each round gives every scenario one window of the same
length, in the same order. The host's speed drifts over minutes (another tenant, a frequency
change), and a ratio of two scenarios measured minutes apart would carry that drift; measured
window by window across the whole run, both sides of a ratio see the same weather. A
scenario's figures add its windows up.

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
from bench.loadgen import LoadResult
from bench.machine import REPO, describe_machine
from bench.procs import Children, StartupError, peak_rss_kib
from bench.results import FAILED, OK, SKIPPED, UNAVAILABLE, ColdGets, RunResult, ScenarioResult
from bench.scenarios import COLD_CONCURRENCY, COLD_ORDER, Scenario
from bench.stack import Stack, missing_capabilities

__all__ = ["Plan", "run"]

STARTUP_ALLOWANCE_S = 15.0  # what a scenario may spend starting its processes


@dataclass(frozen=True)
class Plan:
    mode: str  # full | quick
    duration: float  # measured seconds per scenario, over all its windows
    warmup: float  # unmeasured seconds of the same load before each window (0: none)
    breaker_prime: float  # seconds of load with the ERP down before measuring
    budget_s: float  # the run stops starting windows when this is spent
    hard_limit_s: float  # and is aborted (processes stopped, no report) at this point
    connections: int = 64
    threads: int = 2
    rounds: int = 1  # windows per scenario, one per round

    @classmethod
    def full(cls) -> Plan:
        return cls(
            "full",
            duration=10,
            warmup=0.5,
            breaker_prime=2,
            budget_s=540,
            hard_limit_s=585,
            rounds=4,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls("quick", duration=3, warmup=0, breaker_prime=1, budget_s=95, hard_limit_s=115)

    @property
    def window(self) -> float:
        """Measured seconds of one window."""
        return self.duration / self.rounds


def _progress(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {text}", file=sys.stderr, flush=True)


def _check(stack: Stack, spec: Scenario) -> ScenarioResult:
    """The scenario, FAILED unless its route answers 2xx (a GET that also warms caches)."""
    result = ScenarioResult(spec.name, spec.label, spec.group)
    result.url = stack.url(spec.service) + spec.path
    status, body = get(result.url)  # for the breaker: while the ERP is still up
    if not 200 <= status < 300:
        result.status = FAILED
        result.note = f"GET {spec.path} answered {status}: {body[:200].decode(errors='replace')}"
    return result


def _measure_window(
    stack: Stack, driver: LoadDriver, plan: Plan, spec: Scenario, result: ScenarioResult
) -> None:
    """One more window of ``spec``'s load, added to ``result``."""
    window = CpuWindow(stack.pids, watched=lambda: stack.parties(spec.service))
    if plan.warmup:
        driver.measure(result.url, plan.warmup)
    before = stack.control.requests()
    with window:
        load = driver.measure(result.url, plan.window, spec.partial_marker)
    after = stack.control.requests()
    result.windows.append(load)
    result.load = LoadResult.combined(result.windows)
    for party, seconds in window.used_s.items():
        result.cpu_s[party] = round(result.cpu_s.get(party, 0.0) + seconds, 3)
    for name in after:
        result.backend_calls[name] = result.backend_calls.get(name, 0) + after[name] - before[name]
    if window.foreign_cores is not None:
        # the average over the windows so far, each weighed by its length
        earlier = sum(w.duration_s for w in result.windows[:-1])
        mean = result.foreign_cpu_cores or 0.0
        total = earlier + load.duration_s
        result.foreign_cpu_cores = round(
            (mean * earlier + window.foreign_cores * load.duration_s) / total if total else 0.0, 2
        )
    if result.load.marked:
        share = result.load.marked / max(result.load.requests, 1)
        result.note = (
            f"{result.load.marked:,} answers ({share:.0%}) were partial: an include was unavailable"
        )


def _measure_breaker(
    stack: Stack, driver: LoadDriver, plan: Plan, spec: Scenario
) -> ScenarioResult:
    result = _check(stack, spec)
    if result.status != OK:
        return result
    window = CpuWindow(stack.pids, watched=lambda: stack.parties(spec.service))
    return run_breaker(
        result,
        result.url,
        stack.control,
        driver,
        window,
        prime_s=plan.breaker_prime,
        duration=plan.duration,
    )


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
            "rounds": plan.rounds,
            "warmup_s": plan.warmup,
            "breaker_prime_s": plan.breaker_prime,
            "connections": driver.connections,
            "threads": plan.threads if driver.name == "wrk" else 1,
            "loadgen": driver.describe(),
        }
    )
    missing = missing_capabilities()
    with Children(workdir / "logs", REPO) as children:
        stack = Stack(children, workdir)
        try:
            result.scenarios.extend(
                _rounds(stack, driver, plan, [s for s in specs if not s.breaker], missing, started)
            )
            if cold_gets:
                result.cold_gets = _cold(stack, started)
            for spec in (s for s in specs if s.breaker):
                result.scenarios.append(_one_breaker(stack, driver, plan, spec, missing, started))
        finally:
            result.peak_rss_kib = {
                name: kib
                for name, child in stack.started.items()
                if (kib := peak_rss_kib(child.pid)) is not None
            }
    result.meta["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def _rounds(
    stack: Stack,
    driver: LoadDriver,
    plan: Plan,
    specs: list[Scenario],
    missing: dict[str, str],
    started: float,
) -> list[ScenarioResult]:
    """Every scenario's windows, a round at a time; in the order given."""
    results: dict[str, ScenarioResult] = {}
    for spec in specs:
        if spec.requires in missing:
            results[spec.name] = ScenarioResult(
                spec.name, spec.label, spec.group, UNAVAILABLE, note=missing[spec.requires]
            )
    for number in range(1, plan.rounds + 1):
        for spec in specs:
            outcome = results.get(spec.name)
            if outcome is not None and outcome.status != OK:
                continue
            spent = time.monotonic() - started
            if spent + plan.window + plan.warmup + STARTUP_ALLOWANCE_S > plan.budget_s:
                if outcome is None:
                    results[spec.name] = ScenarioResult(
                        spec.name,
                        spec.label,
                        spec.group,
                        SKIPPED,
                        note=f"out of the {plan.budget_s:.0f} s time budget",
                    )
                continue
            try:
                if outcome is None:
                    outcome = results[spec.name] = _check(stack, spec)
                    if outcome.status != OK:
                        _progress(started, _summary(outcome))
                        continue
                _measure_window(stack, driver, plan, spec, outcome)
            except (StartupError, LoadError, OSError) as exc:
                results[spec.name] = ScenarioResult(
                    spec.name, spec.label, spec.group, FAILED, note=str(exc)
                )
                _progress(started, _summary(results[spec.name]))
                continue
            if number == plan.rounds:
                _progress(started, _summary(outcome))
        if plan.rounds > 1:
            _progress(started, f"round {number} of {plan.rounds} measured")
    for outcome in results.values():
        if outcome.status == OK and 0 < len(outcome.windows) < plan.rounds:
            outcome.note = "; ".join(
                filter(None, [outcome.note, f"{len(outcome.windows)} of {plan.rounds} windows"])
            )
    return [results[spec.name] for spec in specs]


def _one_breaker(
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
    elif time.monotonic() - started + plan.duration + plan.breaker_prime + STARTUP_ALLOWANCE_S > (
        plan.budget_s
    ):
        outcome = ScenarioResult(spec.name, spec.label, spec.group, SKIPPED)
        outcome.note = f"out of the {plan.budget_s:.0f} s time budget"
    else:
        try:
            outcome = _measure_breaker(stack, driver, plan, spec)
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
