"""The targets' verdicts and the report: ratios, their preconditions, and what gets printed."""

from __future__ import annotations

from bench.loadgen import LoadResult
from bench.report import console_summary, render_markdown
from bench.results import ColdGets, RunResult, ScenarioResult
from bench.targets import TIMES, Verdict, evaluate, ratio_target

META = {
    "date": "2026-01-05 12:00:00 UTC",
    "commit": "abc1234",
    "nproc": 2,
    "cpu": "test CPU",
    "memory_gib": 8.0,
    "platform": "Linux",
    "python": "3.11.7",
    "mode": "quick",
    "duration_s": 3,
    "warmup_s": 0,
    "breaker_prime_s": 1,
    "connections": 64,
    "threads": 2,
    "loadgen": "wrk 4.1.0",
    "elapsed_s": 42.0,
}


def scenario(
    name: str, rps: float, *, p99: float = 10.0, non_2xx: int = 0, calls: int = 0, **extra: object
) -> ScenarioResult:
    load = LoadResult(
        requests=int(rps * 10), duration_s=10.0, p50_ms=1.0, p99_ms=p99, non_2xx=non_2xx
    )
    result = ScenarioResult(
        name, f"label of {name}", "veneer", load=load, backend_calls={"erp": calls}
    )
    for key, value in extra.items():
        setattr(result, key, value)
    return result


def run_of(*scenarios: ScenarioResult, cold: ColdGets | None = None) -> RunResult:
    return RunResult(meta=dict(META), scenarios=list(scenarios), cold_gets=cold)


def by_target(run: RunResult) -> dict[str, tuple[str, float | None]]:
    return {v.target: (v.status, v.ratio) for v in evaluate(run)}


def test_a_ratio_at_its_threshold_is_met_and_just_below_is_not() -> None:
    """≥ means ≥: a ratio of 0.80 meets a 0.80 target, 0.79 does not."""
    met = ratio_target(run_of(scenario("a", 800), scenario("b", 1000)), "t", "a", "b", 0.80)
    missed = ratio_target(run_of(scenario("a", 790), scenario("b", 1000)), "t", "a", "b", 0.80)
    assert (met.status, met.ratio) == ("met", 0.8)
    assert missed.status == "not met" and missed.ratio is not None and missed.ratio < 0.8


def test_a_missing_or_unavailable_side_makes_the_target_unavailable() -> None:
    """No number is invented: an absent or unavailable scenario gives 'unavailable' and says why."""
    absent = ratio_target(run_of(scenario("a", 800)), "t", "a", "b", 0.5)
    unavailable = ScenarioResult("b", "b", "veneer", status="unavailable", note="no --workers")
    gone = ratio_target(run_of(scenario("a", 800), unavailable), "t", "a", "b", 0.5)
    assert absent.status == gone.status == "unavailable"
    assert "b was not run" in absent.note and "no --workers" in gone.note


def test_a_fast_run_that_failed_does_not_meet_a_ratio() -> None:
    """More than 1% non-2xx answers make the throughput meaningless, however high the ratio."""
    verdict = ratio_target(
        run_of(scenario("a", 5000, non_2xx=5000), scenario("b", 1000)), "t", "a", "b", 0.5
    )
    assert verdict.status == "not met" and "not 2xx" in verdict.note


def test_a_cached_get_the_backend_answered_is_not_a_cached_get() -> None:
    """The cache target needs the backend to have been spared, not just a good ratio."""
    run = run_of(scenario("bare", 1000), scenario("cached", 900, calls=9000))
    status, ratio = by_target(run)["cached GET vs bare aiohttp"]
    assert status == "not met" and ratio == 0.9
    spared = run_of(scenario("bare", 1000), scenario("cached", 900, calls=0))
    assert by_target(spared)["cached GET vs bare aiohttp"] == ("met", 0.9)


def cached_verdict(run: RunResult) -> Verdict:
    return next(v for v in evaluate(run) if v.target == "cached GET vs bare aiohttp")


def test_the_cached_verdict_names_what_the_same_duties_cost_hand_inlined() -> None:
    """With the inlined peer measured, the cached note gives its ratio to bare; without, nothing."""
    floor = run_of(scenario("bare", 1000), scenario("cached", 400), scenario("inlined", 780))
    verdict = cached_verdict(floor)
    assert (verdict.status, verdict.ratio) == ("not met", 0.4)
    assert f"the same duties reach 0.78{TIMES}" in verdict.note
    alone = run_of(scenario("bare", 1000), scenario("cached", 400))
    assert "hand-inlined" not in cached_verdict(alone).note


def test_the_cached_verdict_also_gives_the_ratio_against_bare_aiohttp_on_uvloop() -> None:
    """The verdict stays against the target's peer; the note adds the same-loop ratio if measured."""
    both = run_of(scenario("bare", 1000), scenario("bare-uvloop", 1250), scenario("cached", 850))
    verdict = cached_verdict(both)
    assert (verdict.status, verdict.ratio) == ("met", 0.85)
    assert f"against bare aiohttp on uvloop, as veneer serves: 0.68{TIMES}" in verdict.note
    alone = run_of(scenario("bare", 1000), scenario("cached", 850))
    assert "uvloop" not in cached_verdict(alone).note


def test_breaker_latency_counts_only_when_the_breaker_was_seen_open() -> None:
    """A fast 503 from 'connection refused' is not a breaker-open answer."""
    name = "breaker-open answers p99, under load"
    closed = scenario("breaker-open", 5000, p99=1.0, evidence={"breaker_opened": False})
    opened = scenario("breaker-open", 5000, p99=4.9, evidence={"breaker_opened": True})
    slow = scenario("breaker-open", 5000, p99=5.1, evidence={"breaker_opened": True})
    assert by_target(run_of(closed))[name][0] == "not met"
    assert by_target(run_of(opened))[name][0] == "met"
    assert by_target(run_of(slow))[name][0] == "not met"


def test_cold_gets_meet_the_target_only_with_exactly_one_backend_call() -> None:
    """One call for 100 cold GETs meets it, more does not; a burst refused (401) proves nothing."""
    name = "100 concurrent identical cold GETs"
    assert by_target(run_of(cold=ColdGets(100, backend_calls=1)))[name][0] == "met"
    assert by_target(run_of(cold=ColdGets(100, backend_calls=23)))[name][0] == "not met"
    assert by_target(run_of())[name][0] == "unavailable"
    refused = ColdGets(100, status="failed", backend_calls=0, statuses={"401": 100})
    assert by_target(run_of(cold=refused))[name][0] == "unavailable"


def test_the_report_prints_the_run_and_survives_a_json_round_trip() -> None:
    """Markdown carries metadata, each target and each measurement, rebuilt from the JSON alike."""
    run = run_of(
        scenario("bare", 20000), scenario("cached", 17000), cold=ColdGets(100, backend_calls=1)
    )
    run.peak_rss_kib = {"gateway-cached": 102400}
    again = RunResult.from_json(run.to_json())
    markdown = render_markdown(again, evaluate(again), notes="We profiled X.")
    assert again == run
    for expected in (
        "abc1234",
        "wrk 4.1.0",
        "20,000",
        "17,000",
        f"0.85{TIMES}",
        "✅ met",
        "100.0",
        "We profiled X.",
    ):
        assert expected in markdown, expected


def test_a_ratio_measured_next_to_a_busy_neighbour_is_flagged_not_hidden() -> None:
    """Other processes' CPU use leaves the verdict alone but says so, in the note and the report."""
    busy = scenario("b", 1000, foreign_cpu_cores=0.9)
    run = run_of(scenario("a", 600, foreign_cpu_cores=0.05), busy)
    verdict = ratio_target(run, "t", "a", "b", 0.5)
    assert verdict.status == "met"
    assert "0.90 CPUs during b" in verdict.note and "during a" not in verdict.note
    assert "The machine was not quiet" in render_markdown(run, [verdict])


def test_a_ratio_just_under_its_threshold_never_prints_as_the_threshold() -> None:
    """1.495 against ≥ 1.50 is not met, so it must print 1.49, not a rounded-up 1.50."""
    verdict = ratio_target(run_of(scenario("a", 1495), scenario("b", 1000)), "t", "a", "b", 1.5)
    assert verdict.status == "not met"
    assert f"1.49{TIMES}" in console_summary([verdict])


def test_cpu_per_request_is_the_window_cpu_over_answered_requests() -> None:
    """Each party's CPU seconds become µs per answered request; an idle sandbox is left out."""
    soap = scenario("soap", 1000, cpu_s={"target": 6.5, "sandbox": 2.0})  # 10,000 requests
    cached = scenario("cached", 1000, cpu_s={"target": 1.2, "sandbox": 0.0})
    unmeasured = scenario("other", 0, cpu_s={"target": 1.0})
    assert soap.cpu_us_per_request("target") == 650
    assert soap.cpu_us_per_request("sandbox") == 200
    assert unmeasured.cpu_us_per_request("target") is None
    markdown = render_markdown(run_of(soap, cached), [])
    soap_row = next(line for line in markdown.splitlines() if "label of soap" in line)
    cached_row = next(line for line in markdown.splitlines() if "label of cached" in line)
    assert "| 650 + 200 |" in soap_row
    assert "| 120 |" in cached_row and "+" not in cached_row.split("| 120 |")[1].split("|")[0]


def test_a_ratio_says_what_each_side_cost_per_request_when_measured() -> None:
    """The verdict's note gives both processes' CPU per request, so a gap shows where it lies."""
    veneer = scenario("a", 500, cpu_s={"target": 3.0})  # 5,000 requests: 600 µs each
    peer = scenario("b", 1000, cpu_s={"target": 2.0})  # 10,000 requests: 200 µs each
    assert (
        "CPU per request 600 µs vs 200 µs"
        in ratio_target(run_of(veneer, peer), "t", "a", "b", 0.5).note
    )
    assert (
        "CPU per request"
        not in ratio_target(run_of(scenario("a", 500), peer), "t", "a", "b", 0.5).note
    )


def test_a_run_in_rounds_says_so_and_keeps_its_windows_through_json() -> None:
    """The report names the rounds and their length; each scenario's windows survive the JSON."""
    measured = scenario("bare", 20000)
    measured.windows = [measured.load, measured.load] if measured.load else []
    run = run_of(measured)
    run.meta.update(mode="full", duration_s=10, rounds=4, warmup_s=0.5)
    again = RunResult.from_json(run.to_json())
    markdown = render_markdown(again, evaluate(again), notes=None)
    assert again == run
    assert "10 s per scenario in 4 rounds of 2.5 s, each after 0.5 s of unmeasured warm-up" in (
        markdown
    )
    assert "- Rounds: the measured time is split into 4 windows of 2.5 s" in markdown


def test_a_ratio_measured_in_rounds_shows_its_range_over_the_rounds() -> None:
    """Pairing each round's windows gives the ratio's spread, printed beside the verdict; a side
    measured in other rounds (or in one window) gets none."""

    def in_rounds(name: str, *rps: float) -> ScenarioResult:
        measured = scenario(name, 1000)
        measured.windows = [
            LoadResult(requests=int(r * 2.5), duration_s=2.5, p50_ms=1.0, p99_ms=2.0) for r in rps
        ]
        measured.load = LoadResult.combined(measured.windows)
        return measured

    run = run_of(in_rounds("bare", 20000, 10000, 20000), in_rounds("cached", 8000, 6000, 12000))
    (cached,) = [v for v in evaluate(run) if v.target == "cached GET vs bare aiohttp"]
    assert f"per round 0.40{TIMES} to 0.60{TIMES}" in cached.note

    run = run_of(in_rounds("bare", 20000, 10000), in_rounds("cached", 8000, 6000, 12000))
    (cached,) = [v for v in evaluate(run) if v.target == "cached GET vs bare aiohttp"]
    assert "per round" not in cached.note
