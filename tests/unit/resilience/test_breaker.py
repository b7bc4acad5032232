"""The circuit breaker's automatic states: trips, the single trial, outcomes and their events."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

import pytest

from resilience.breaker import CircuitBreaker
from resilience.breaker_config import BreakerConfig
from resilience.clock import FakeClock
from resilience.errors import BreakerOpen
from resilience.events import BreakerTransition, CallOutcome, EventBus
from tests.unit.resilience.breaker_support import BusinessFault, Harness, Transient

# Settings under which only the rule a test is about can trip the breaker.
NO_RATE = {"window_size": 100, "minimum_calls": 100}
NO_STREAK = {"consecutive_failures": 1000}


async def test_consecutive_failures_open_the_breaker() -> None:
    """The configured number of transient failures in a row opens it, and not one fewer."""
    h = Harness(consecutive_failures=3, **NO_RATE)
    await h.fail(times=2)
    assert h.breaker.state == "closed"
    await h.fail()
    assert h.breaker.state == "open"
    transition = next(e for e in h.events if isinstance(e, BreakerTransition))
    assert (transition.before, transition.after) == ("closed", "open")
    assert transition.reason == "3 consecutive failures"


async def test_a_success_resets_the_consecutive_count() -> None:
    """A success between failures starts the count again."""
    h = Harness(consecutive_failures=3, **NO_RATE)
    await h.fail(times=2)
    await h.succeed()
    await h.fail(times=2)
    assert h.breaker.state == "closed"
    assert h.breaker.snapshot().consecutive_failures == 2


async def test_the_tripping_call_raises_its_own_error() -> None:
    """The call that trips the breaker propagates the backend's exception, not pybreaker's."""
    h = Harness(consecutive_failures=1)
    boom = Transient("reset by peer")

    async def fn() -> None:
        raise boom

    with pytest.raises(Transient) as raised:
        await h.breaker.call(fn)
    assert raised.value is boom
    assert h.breaker.state == "open"


async def test_the_failure_rate_over_a_count_window_waits_for_minimum_calls() -> None:
    """Half the calls failing opens it only once minimum_calls are in the window (a success can be the one)."""
    h = Harness(window_size=10, minimum_calls=6, failure_rate=0.5, **NO_STREAK)
    for _ in range(2):
        await h.fail()
        await h.succeed()
    await h.fail()
    assert h.breaker.state == "closed"  # 60 % failed, but only 5 calls
    await h.succeed()
    assert h.breaker.state == "open"  # 3 of 6: 50 %
    reason = next(e.reason for e in h.events if isinstance(e, BreakerTransition))
    assert reason.startswith("failure rate 50% over 6 calls")


async def test_a_count_window_forgets_calls_beyond_its_size() -> None:
    """Only the last window_size calls count towards the rate."""
    h = Harness(window="count", window_size=4, minimum_calls=4, failure_rate=0.75, **NO_STREAK)
    await h.fail(times=2)
    for _ in range(4):
        await h.succeed()  # pushes both failures out
    await h.fail(times=2)
    assert h.breaker.state == "closed"  # S S F F: 50 %
    await h.fail()
    assert h.breaker.state == "open"  # S F F F: 75 %


@pytest.mark.parametrize(("later", "state"), [(9.0, "open"), (10.0, "closed")])
async def test_a_time_window_lets_old_calls_fall_out(later: float, state: str) -> None:
    """Calls older than window_size seconds no longer count as the clock advances."""
    h = Harness(window="time", window_size=10, minimum_calls=4, failure_rate=0.5, **NO_STREAK)
    await h.fail(times=3)
    h.clock.advance(later)
    await h.succeed()
    assert h.breaker.state == state


async def test_slow_calls_count_as_failures_and_open_the_breaker() -> None:
    """Calls slower than slow_call return their result but count as failures in a row."""
    h = Harness(slow_call=2.0, consecutive_failures=3, **NO_RATE)
    for _ in range(3):
        assert await h.succeed(taking=2.5) == "ok"
    assert h.breaker.state == "open"
    assert h.outcomes == ["slow", "slow", "slow"]
    snap = h.breaker.snapshot()
    assert (snap.calls, snap.failures, snap.slow_calls) == (3, 3, 3)


async def test_slow_calls_count_towards_the_failure_rate() -> None:
    """A window half made of slow calls reaches a 50 % failure rate."""
    h = Harness(slow_call=1.0, window_size=10, minimum_calls=4, failure_rate=0.5, **NO_STREAK)
    for _ in range(2):
        await h.succeed()
        await h.succeed(taking=1.5)
    assert h.breaker.state == "open"


async def test_a_call_lasting_exactly_slow_call_is_not_slow() -> None:
    """Only a call longer than the threshold is slow."""
    h = Harness(slow_call=2.0, consecutive_failures=1)
    await h.succeed(taking=2.0)
    assert h.breaker.state == "closed"
    assert h.outcomes == ["success"]


async def test_an_open_breaker_rejects_without_calling_and_says_when_to_retry() -> None:
    """While open, calls fail fast with BreakerOpen carrying the seconds to the trial."""
    h = Harness(consecutive_failures=1, open_for=30.0)
    await h.trip()
    h.clock.advance(10.0)
    rejection = await h.rejected()
    assert rejection.name == "erp"
    assert rejection.retry_after == pytest.approx(20.0)
    assert h.breaker.retry_after() == pytest.approx(20.0)
    assert h.outcomes[-1] == "rejected"


async def test_exactly_one_trial_goes_through_among_concurrent_callers() -> None:
    """After open_for, one of 20 concurrent callers makes the trial; the others are rejected at once."""
    h = Harness(consecutive_failures=1, open_for=30.0)
    await h.trip()
    h.clock.advance(30.0)
    release = asyncio.Event()
    entered = 0

    async def fn() -> str:
        nonlocal entered
        entered += 1
        await release.wait()
        return "ok"

    tasks = [asyncio.create_task(h.breaker.call(fn)) for _ in range(20)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert entered == 1
    rejected = [t for t in tasks if t.done()]
    assert len(rejected) == 19
    for task in rejected:
        exc = task.exception()
        assert isinstance(exc, BreakerOpen)
        assert exc.retry_after is not None and 0 < exc.retry_after <= 1.0
    assert h.breaker.state == "half_open"
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results.count("ok") == 1
    assert h.breaker.state == "closed"


async def test_a_successful_trial_closes_and_empties_the_window() -> None:
    """Trial success → closed, with the window and the consecutive count reset."""
    h = Harness(consecutive_failures=2, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    await h.succeed()
    assert h.transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    snap = h.breaker.snapshot()
    assert (snap.state, snap.calls, snap.failures, snap.consecutive_failures) == (
        "closed",
        0,
        0,
        0,
    )
    assert snap.opened_at is None and snap.retry_after is None


async def test_a_failed_trial_reopens_for_another_open_period() -> None:
    """Trial failure → open again, for a full open_for counted from the trial's end."""
    h = Harness(consecutive_failures=1, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    await h.fail()
    assert h.breaker.state == "open"
    assert (await h.rejected()).retry_after == pytest.approx(5.0)
    h.clock.advance(5.0)
    await h.succeed()
    assert h.breaker.state == "closed"
    assert h.transitions[-3:] == [
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_a_slow_trial_reopens() -> None:
    """A trial that answers, but too slowly, does not close the breaker."""
    h = Harness(consecutive_failures=1, slow_call=1.0, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    assert await h.succeed(taking=3.0) == "ok"
    assert h.breaker.state == "open"


async def test_business_faults_count_as_successes() -> None:
    """Exceptions is_failure rejects propagate but reset the streak, like pybreaker's excluded ones."""
    h = Harness(consecutive_failures=2, **NO_RATE)

    async def fn() -> None:
        raise BusinessFault("order not found")

    await h.fail()
    with pytest.raises(BusinessFault):
        await h.breaker.call(fn)
    await h.fail()
    assert h.breaker.state == "closed"
    assert h.outcomes == ["failure", "ignored", "failure"]
    assert h.breaker.snapshot().failures == 2


async def test_a_business_fault_on_the_trial_closes_the_breaker() -> None:
    """The backend answering the trial, even with a fault, proves it is back."""
    h = Harness(consecutive_failures=1, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    await h.fail(BusinessFault("no such order"))
    assert h.breaker.state == "closed"


async def test_every_exception_counts_by_default() -> None:
    """Without an is_failure predicate any exception is a failure."""
    breaker = CircuitBreaker(
        "crm", BreakerConfig(consecutive_failures=1), clock=FakeClock(), events=EventBus()
    )

    async def fn() -> None:
        raise ValueError("garbage")

    with pytest.raises(ValueError, match="garbage"):
        await breaker.call(fn)
    assert breaker.state == "open"


async def test_cancellation_counts_as_nothing() -> None:
    """A cancelled call propagates CancelledError and leaves no trace in the window or the streak."""
    h = Harness(consecutive_failures=1)
    task = asyncio.create_task(h.breaker.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    snap = h.breaker.snapshot()
    assert (snap.state, snap.calls, snap.consecutive_failures) == ("closed", 0, 0)
    assert h.outcomes == ["ignored"]


async def test_a_cancelled_trial_frees_the_slot_for_the_next_caller() -> None:
    """If the trial is cancelled, the breaker stays half-open and the next caller makes the trial."""
    h = Harness(consecutive_failures=1, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    trial = asyncio.create_task(h.breaker.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    await h.rejected()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert h.breaker.state == "half_open"
    assert h.breaker.retry_after() == 0.0
    assert await h.succeed() == "ok"
    assert h.breaker.state == "closed"


async def test_a_straggler_from_before_the_trip_cannot_reopen_the_breaker() -> None:
    """A call admitted while closed that fails during the trial moves nothing; the trial decides."""
    h = Harness(consecutive_failures=2, open_for=5.0)
    straggler_may_fail = asyncio.Event()

    async def straggler() -> None:
        await straggler_may_fail.wait()
        raise Transient("late")

    late = asyncio.create_task(h.breaker.call(straggler))
    await asyncio.sleep(0)
    await h.trip()
    h.clock.advance(5.0)
    trial_may_end = asyncio.Event()

    async def trial_fn() -> str:
        await trial_may_end.wait()
        return "ok"

    trial = asyncio.create_task(h.breaker.call(trial_fn))
    await asyncio.sleep(0)
    straggler_may_fail.set()
    with pytest.raises(Transient):
        await late
    assert h.breaker.state == "half_open"
    trial_may_end.set()
    assert await trial == "ok"
    assert h.breaker.state == "closed"
    assert h.outcomes.count("failure") == 3  # the straggler is still published


async def test_events_are_published_in_order() -> None:
    """Each outcome precedes the transition it causes, stamped with the clock's time."""
    h = Harness(consecutive_failures=2, open_for=5.0, **NO_RATE)
    await h.fail(times=2)
    await h.rejected()
    h.clock.advance(5.0)
    await h.succeed()
    shape: list[tuple[str, ...]] = []
    for e in h.events:
        if isinstance(e, CallOutcome):
            shape.append(("outcome", e.outcome))
        else:
            shape.append(("transition", e.before, e.after))
    assert shape == [
        ("outcome", "failure"),
        ("outcome", "failure"),
        ("transition", "closed", "open"),
        ("outcome", "rejected"),
        ("transition", "open", "half_open"),
        ("outcome", "success"),
        ("transition", "half_open", "closed"),
    ]
    assert all(e.breaker == "erp" for e in h.events)
    assert [e.at for e in h.events] == [1000.0] * 4 + [1005.0] * 3
    reasons = [e.reason for e in h.events if isinstance(e, BreakerTransition)]
    assert reasons == [
        "2 consecutive failures",
        "open for 5s: one trial call",
        "trial call: success",
    ]


async def test_an_outcome_carries_the_call_duration() -> None:
    """duration_s is measured on the injected clock."""
    h = Harness()
    await h.succeed(taking=0.25)
    outcome = next(e for e in h.events if isinstance(e, CallOutcome))
    assert outcome.duration_s == pytest.approx(0.25)


async def test_the_snapshot_describes_an_open_breaker() -> None:
    """A snapshot reports the window, the streak, when it opened and when it will try again."""
    h = Harness(consecutive_failures=3, open_for=30.0, window_size=10, minimum_calls=10)
    await h.succeed()
    h.clock.advance(2.0)
    opened_at = h.clock.now()
    await h.fail(times=3)
    h.clock.advance(12.0)
    snap = h.breaker.snapshot()
    assert snap.name == "erp"
    assert snap.state == "open"
    assert (snap.calls, snap.failures, snap.slow_calls) == (4, 3, 0)
    assert snap.failure_rate == pytest.approx(0.75)
    assert snap.consecutive_failures == 3
    assert snap.opened_at == opened_at
    assert snap.next_trial_at == opened_at + timedelta(seconds=30)
    assert snap.retry_after == pytest.approx(18.0)
    assert snap.trial_in_flight is False
    assert (snap.forced, snap.forced_until, snap.forced_reason, snap.forced_by) == (
        None,
        None,
        "",
        "",
    )


async def test_the_snapshot_shows_a_trial_under_way() -> None:
    """While the trial runs the breaker is half-open, a trial is in flight, and callers wait a second."""
    h = Harness(consecutive_failures=1, open_for=5.0)
    await h.trip()
    h.clock.advance(7.0)
    trial = asyncio.create_task(h.breaker.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    snap = h.breaker.snapshot()
    assert (snap.state, snap.trial_in_flight, snap.retry_after) == ("half_open", True, 1.0)
    assert snap.next_trial_at is None
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial


async def test_a_closed_breaker_has_no_retry_after() -> None:
    """retry_after() is None while calls go through."""
    assert Harness().breaker.retry_after() is None


async def test_a_rejection_costs_microseconds() -> None:
    """An open breaker answers without awaiting anything: 10,000 rejections take well under 0.5 s."""
    h = Harness(consecutive_failures=1, open_for=60.0)
    await h.trip()

    async def fn() -> None:
        raise AssertionError("never called")

    call: Any = h.breaker.call
    started = time.perf_counter()
    for _ in range(10_000):
        with contextlib.suppress(BreakerOpen):
            await call(fn)
    assert time.perf_counter() - started < 0.5
