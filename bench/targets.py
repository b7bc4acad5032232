"""DESIGN.md's performance targets, judged against one run's results.

Each target is a ratio between two scenarios of the same run, or a bound on one observation.
A verdict is ``met``, ``not met`` or ``unavailable`` (something it needs was not measured), and
carries a note with the evidence whenever the plain number could mislead: a "cached" GET the
backend answered every time, a "breaker-open" answer from a breaker that never opened, a fast
run that was fast because it failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.results import OK, RunResult, ScenarioResult

__all__ = ["MAX_FAILURE_FRACTION", "NOISY_CORES", "TIMES", "Verdict", "evaluate", "noisy"]

MET, NOT_MET, UNAVAILABLE = "met", "not met", "unavailable"
TIMES = "\N{MULTIPLICATION SIGN}"  # how a ratio is written: 0.80x with the proper sign
MAX_FAILURE_FRACTION = 0.01  # above this, a throughput number measures errors, not the route
BREAKER_P99_MS = 5.0
CACHE_MISS_FRACTION = 0.5  # more backend calls per request than this: the cache did not serve
NOISY_CORES = 0.25  # other processes using more CPU than this during a window: flagged

Precondition = Callable[[ScenarioResult], str | None]  # None, or why the number is not valid


@dataclass(frozen=True)
class Verdict:
    target: str
    threshold: str
    measured: str
    status: str
    ratio: float | None = None
    note: str = ""


def _why_unmeasured(scenario: ScenarioResult | None, name: str) -> str | None:
    if scenario is None:
        return f"{name} was not run"
    if not scenario.measured:
        return f"{name}: {scenario.status}" + (f" ({scenario.note})" if scenario.note else "")
    return None


def _answered(scenario: ScenarioResult) -> str | None:
    fraction = scenario.failure_fraction()
    if fraction > MAX_FAILURE_FRACTION:
        return f"{scenario.name}: {fraction:.0%} of requests failed or were not 2xx"
    return None


def _served_from_cache(scenario: ScenarioResult) -> str | None:
    per_request = scenario.calls_per_request()
    if per_request is not None and per_request > CACHE_MISS_FRACTION:
        calls = sum(scenario.backend_calls.values())
        assert scenario.load is not None
        return (
            f"not served from cache: the backend saw {calls:,} calls for "
            f"{scenario.load.requests:,} requests"
        )
    return None


def noisy(*scenarios: ScenarioResult) -> str:
    """A warning naming the windows other processes competed for the CPU in ('' if none)."""
    busy = [
        f"{s.foreign_cpu_cores:.2f} CPUs during {s.name}"
        for s in scenarios
        if s.foreign_cpu_cores is not None and s.foreign_cpu_cores > NOISY_CORES
    ]
    return f"⚠ other processes used {', '.join(busy)}" if busy else ""


def _cpu_cost(top: ScenarioResult, bottom: ScenarioResult) -> str:
    """Both sides' CPU per request, where the ratio's gap comes from ('' if not measured)."""
    mine, theirs = top.cpu_us_per_request("target"), bottom.cpu_us_per_request("target")
    if mine is None or theirs is None:
        return ""
    return f"CPU per request {mine:,.0f} µs vs {theirs:,.0f} µs"


def _per_round(top: ScenarioResult, bottom: ScenarioResult) -> str:
    """The ratio's range over the rounds, when both sides were measured in the same ones ('' if
    not): how far a verdict near its threshold could have gone the other way."""
    if len(top.windows) < 2 or len(top.windows) != len(bottom.windows):
        return ""
    ratios = sorted(
        mine.rps / theirs.rps
        for mine, theirs in zip(top.windows, bottom.windows, strict=True)
        if theirs.rps > 0
    )
    if len(ratios) < 2:
        return ""
    return f"per round {ratios[0]:.2f}{TIMES} to {ratios[-1]:.2f}{TIMES}"


def _joined(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def ratio_target(
    run: RunResult,
    text: str,
    numerator: str,
    denominator: str,
    minimum: float,
    preconditions: tuple[Precondition, ...] = (),
) -> Verdict:
    """``numerator`` req/s ÷ ``denominator`` req/s ≥ ``minimum``, both valid measurements."""
    threshold = f"≥ {minimum:.2f}{TIMES}"
    top, bottom = run.scenario(numerator), run.scenario(denominator)
    missing = _why_unmeasured(top, numerator) or _why_unmeasured(bottom, denominator)
    if missing:
        return Verdict(text, threshold, "—", UNAVAILABLE, note=missing)
    assert top is not None and bottom is not None and top.load and bottom.load
    ratio = top.load.rps / bottom.load.rps
    measured = f"{top.load.rps:,.0f} / {bottom.load.rps:,.0f} req/s"
    checks = [check(top) for check in (_answered, *preconditions)] + [_answered(bottom)]
    problems = [problem for problem in checks if problem]
    status = MET if ratio >= minimum and not problems else NOT_MET
    note = _joined(*problems, _cpu_cost(top, bottom), _per_round(top, bottom), noisy(top, bottom))
    return Verdict(text, threshold, measured, status, ratio, note)


def breaker_target(run: RunResult) -> Verdict:
    text, threshold = "breaker-open answers p99, under load", f"≤ {BREAKER_P99_MS:g} ms"
    scenario = run.scenario("breaker-open")
    missing = _why_unmeasured(scenario, "breaker-open")
    if missing:
        return Verdict(text, threshold, "—", UNAVAILABLE, note=missing)
    assert scenario is not None and scenario.load is not None
    measured = f"p99 {scenario.load.p99_ms:.2f} ms"
    note = _joined(scenario.note, noisy(scenario))
    if not scenario.evidence.get("breaker_opened"):
        return Verdict(text, threshold, measured, NOT_MET, note=note)
    status = MET if scenario.load.p99_ms <= BREAKER_P99_MS else NOT_MET
    return Verdict(text, threshold, measured, status, note=note)


def single_flight_target(run: RunResult) -> Verdict:
    cold = run.cold_gets
    text, threshold = "100 concurrent identical cold GETs", "1 backend call"
    if cold is None or cold.backend_calls is None or cold.status != OK:
        note = "not run" if cold is None else f"{cold.status}: {cold.note}"
        return Verdict(text, threshold, "—", UNAVAILABLE, note=note)
    calls = cold.backend_calls
    measured = f"{calls} backend call{'s' if calls != 1 else ''}"
    return Verdict(text, threshold, measured, MET if calls == 1 else NOT_MET, note=cold.note)


def _rps_ratio(run: RunResult, top: str, bottom: str) -> float | None:
    """``top``'s req/s over ``bottom``'s, when both were measured."""
    mine, theirs = run.scenario(top), run.scenario(bottom)
    if _why_unmeasured(mine, top) or _why_unmeasured(theirs, bottom):
        return None
    assert mine is not None and mine.load and theirs is not None and theirs.load
    return mine.load.rps / theirs.load.rps


def with_floor(run: RunResult, verdict: Verdict) -> Verdict:
    """The cached verdict, noting what the same duties cost hand-inlined (bench.peers.inlined),
    and the ratio against bare aiohttp on the loop veneer serves on (uvloop).

    The inlined peer is the floor under any cached facade with veneer's duties on aiohttp: a
    ratio the floor itself does not reach cannot be met by structure, only by dropping duties.
    The target's own peer runs on asyncio's loop, as ``web.run_app`` starts it; the second
    ratio shows how much of the result is the loop.
    """
    note = verdict.note
    floor = _rps_ratio(run, "inlined", "bare")
    if floor is not None:
        note = _joined(note, f"hand-inlined, the same duties reach {floor:.2f}{TIMES}")
    same_loop = _rps_ratio(run, "cached", "bare-uvloop")
    if same_loop is not None:
        note = _joined(
            note, f"against bare aiohttp on uvloop, as veneer serves: {same_loop:.2f}{TIMES}"
        )
    return replace(verdict, note=note)


def evaluate(run: RunResult) -> list[Verdict]:
    """Every DESIGN.md target, in DESIGN.md's order."""
    return [
        with_floor(
            run,
            ratio_target(
                run, "cached GET vs bare aiohttp", "cached", "bare", 0.80, (_served_from_cache,)
            ),
        ),
        ratio_target(run, "uncached SOAP GET vs zeep + aiohttp peer", "soap", "zeep-aiohttp", 4.0),
        ratio_target(
            run, "uncached XML-RPC GET vs raw XML-RPC round trip", "xmlrpc", "raw-xmlrpc", 0.5
        ),
        ratio_target(run, "uncached WMS GET vs raw Fishbowl round trip", "wms", "raw-wms", 0.5),
        breaker_target(run),
        single_flight_target(run),
        ratio_target(run, "2 worker processes vs 1", "workers-2", "workers-1", 1.5),
    ]
