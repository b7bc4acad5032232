"""Operators' forced states on a breaker: forced open, forced closed, disabled, auto, and TTLs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from resilience.breaker_forcing import Forcing, check_force
from resilience.breaker_state import BreakerState
from resilience.clock import FakeClock
from resilience.events import BreakerTransition
from tests.unit.resilience.breaker_support import Harness


async def test_forced_open_rejects_every_call_and_leaves_the_wait_to_the_caller() -> None:
    """Forced open without a TTL rejects calls with retry_after None."""
    h = Harness()
    snap = h.breaker.force("forced_open", reason="ERP maintenance", actor="alice")
    assert snap.state == "forced_open" and snap.forced == "forced_open"
    assert (snap.forced_reason, snap.forced_by, snap.forced_until) == (
        "ERP maintenance",
        "alice",
        None,
    )
    rejection = await h.rejected()
    assert rejection.retry_after is None
    assert h.breaker.retry_after() is None
    transition = h.events[0]
    assert isinstance(transition, BreakerTransition)
    assert (transition.before, transition.after) == ("closed", "forced_open")
    assert transition.reason == "forced by alice: ERP maintenance"


async def test_forced_open_with_a_ttl_says_when_it_ends() -> None:
    """With a TTL, rejections carry the time left and the snapshot the end of the forcing."""
    h = Harness()
    ends = h.clock.now() + timedelta(seconds=60)
    snap = h.breaker.force("forced_open", ttl_s=60.0, actor="bob")
    assert snap.forced_until == ends and snap.next_trial_at == ends
    h.clock.advance(15.0)
    assert (await h.rejected()).retry_after == pytest.approx(45.0)
    assert h.events[0].reason == "forced for 60s by bob"


async def test_a_forcing_returns_to_automatic_when_its_ttl_runs_out() -> None:
    """After ttl_s the breaker is automatic and closed again, on its own."""
    h = Harness()
    h.breaker.force("forced_open", ttl_s=60.0)
    h.clock.advance(60.0)
    assert await h.succeed() == "ok"
    assert h.breaker.state == "closed"
    assert h.transitions == [("closed", "forced_open"), ("forced_open", "closed")]
    assert h.events[-2].reason == "forced_open expired after 60s"


async def test_tick_lifts_an_expired_forcing_without_a_call() -> None:
    """The dashboard's tick() (and a snapshot) apply the TTL even when no call comes."""
    h = Harness()
    h.breaker.force("disabled", ttl_s=5.0)
    h.clock.advance(5.0)
    h.breaker.tick()
    assert h.transitions == [("closed", "disabled"), ("disabled", "closed")]
    h.breaker.force("forced_closed", ttl_s=5.0)
    h.clock.advance(6.0)
    assert h.breaker.snapshot().forced is None


async def test_forced_closed_lets_every_call_through_and_records_but_never_trips() -> None:
    """Forced closed counts the failures in the window for the dashboard, yet never opens."""
    h = Harness(consecutive_failures=2, window_size=4, minimum_calls=4)
    h.breaker.force("forced_closed")
    await h.fail(times=10)
    assert h.calls == 10
    snap = h.breaker.snapshot()
    assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (
        "forced_closed",
        4,
        4,
        1.0,
    )
    assert h.outcomes == ["failure"] * 10


async def test_forced_closed_lets_calls_through_an_open_breaker() -> None:
    """Forcing closed overrides an open automatic state at once."""
    h = Harness(consecutive_failures=1, open_for=60.0)
    await h.trip()
    h.breaker.force("forced_closed")
    assert await h.succeed() == "ok"


async def test_disabled_lets_every_call_through_and_records_nothing() -> None:
    """Disabled takes the breaker out of the path: no window, no outcome events."""
    h = Harness(consecutive_failures=1)
    h.breaker.force("disabled")
    await h.fail(times=5)
    await h.succeed()
    assert h.calls == 6
    snap = h.breaker.snapshot()
    assert (snap.state, snap.calls, snap.consecutive_failures) == ("disabled", 0, 0)
    assert h.outcomes == []


async def test_auto_resets_an_open_breaker_to_closed_with_an_empty_window() -> None:
    """force('auto') hands back to the automatic machine: closed, counts at zero."""
    h = Harness(consecutive_failures=2, open_for=60.0)
    await h.trip()
    snap = h.breaker.force("auto", reason="backend fixed", actor="carol")
    assert (snap.state, snap.calls, snap.consecutive_failures, snap.forced) == (
        "closed",
        0,
        0,
        None,
    )
    assert h.transitions == [("closed", "open"), ("open", "closed")]
    assert h.events[-1].reason == "returned to automatic by carol: backend fixed"
    await h.fail()
    assert h.breaker.state == "closed"  # one failure, not the old streak plus one


async def test_auto_after_forced_closed_forgets_what_was_recorded() -> None:
    """Leaving forced closed starts the automatic machine afresh."""
    h = Harness(consecutive_failures=3)
    h.breaker.force("forced_closed")
    await h.fail(times=5)
    h.breaker.force("auto")
    await h.fail(times=2)
    assert h.breaker.state == "closed"
    assert h.breaker.snapshot().calls == 2


async def test_a_trial_overtaken_by_a_forcing_moves_nothing() -> None:
    """The outcome of a trial that was running when an operator forced the breaker is ignored."""
    h = Harness(consecutive_failures=1, open_for=5.0)
    await h.trip()
    h.clock.advance(5.0)
    release = asyncio.Event()

    async def trial_fn() -> str:
        await release.wait()
        return "ok"

    trial = asyncio.create_task(h.breaker.call(trial_fn))
    await asyncio.sleep(0)
    h.breaker.force("forced_closed")
    before = h.breaker.snapshot()
    release.set()
    assert await trial == "ok"
    after = h.breaker.snapshot()
    assert (after.calls, after.failures) == (before.calls, before.failures) == (1, 1)
    assert h.breaker.pybreaker.current_state == "half-open"  # the trial's success closed nothing


async def test_forcing_the_same_state_again_publishes_no_transition() -> None:
    """Re-forcing updates the TTL but is not a state change."""
    h = Harness()
    h.breaker.force("forced_open", ttl_s=10.0)
    snap = h.breaker.force("forced_open", ttl_s=100.0, reason="longer")
    assert h.transitions == [("closed", "forced_open")]
    assert snap.forced_reason == "longer"
    assert snap.retry_after == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("target", "ttl_s"), [("open", None), ("auto", 5.0), ("forced_open", 0.0), ("disabled", -1.0)]
)
def test_an_impossible_forcing_is_refused(target: str, ttl_s: float | None) -> None:
    """Unknown targets, a TTL on auto and non-positive TTLs are ValueErrors."""
    with pytest.raises(ValueError, match=r"cannot force|ttl_s"):
        check_force(target, ttl_s)


def test_a_forcing_knows_when_it_ends() -> None:
    """has_expired turns true exactly at the end of the TTL; without a TTL never."""
    clock = FakeClock()
    forcing = Forcing.begin("forced_open", ttl_s=10.0, reason="", actor="", clock=clock)
    assert forcing.state is BreakerState.FORCED_OPEN
    assert not forcing.has_expired(clock.monotonic() + 9.999)
    assert forcing.has_expired(clock.monotonic() + 10.0)
    endless = Forcing.begin("forced_open", ttl_s=None, reason="", actor="", clock=clock)
    assert not endless.has_expired(clock.monotonic() + 1e9)
