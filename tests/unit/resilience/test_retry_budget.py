"""Retry budget: retries stay within ratio x calls (+ a floor) over a sliding window."""

from __future__ import annotations

import pytest

from resilience.clock import FakeClock
from resilience.retry_budget import RetryBudget


def spend_all(budget: RetryBudget) -> int:
    spent = 0
    while budget.try_spend():
        spent += 1
        assert spent < 1000, "budget never ran out"
    return spent


def test_ten_calls_at_a_fifth_allow_two_retries_plus_the_floor() -> None:
    """ratio 0.2 and 10 calls: 2 retries, plus min_retries, then no more."""
    budget = RetryBudget(0.2, 10.0, clock=FakeClock(), min_retries=3)
    for _ in range(10):
        budget.record_call()
    assert spend_all(budget) == 2 + 3
    assert budget.retries == 5
    assert not budget.try_spend()


def test_a_quiet_backend_still_gets_min_retries() -> None:
    """With no calls counted, the floor alone is spendable."""
    budget = RetryBudget(0.2, 10.0, clock=FakeClock(), min_retries=3)
    assert spend_all(budget) == 3


def test_more_calls_earn_more_retries() -> None:
    """Calls made after the budget ran out refill it at ratio per call."""
    budget = RetryBudget(0.2, 10.0, clock=FakeClock(), min_retries=0)
    for _ in range(10):
        budget.record_call()
    assert spend_all(budget) == 2
    for _ in range(5):
        budget.record_call()
    assert spend_all(budget) == 1


def test_float_error_does_not_lose_a_retry() -> None:
    """0.1 x 30 calls is exactly 3 retries, not 2 (floor after absorbing float error)."""
    budget = RetryBudget(0.1, 10.0, clock=FakeClock(), min_retries=0)
    for _ in range(30):
        budget.record_call()
    assert spend_all(budget) == 3


def test_spent_retries_and_old_calls_leave_as_the_window_slides() -> None:
    """After a window, old calls and retries no longer count: the budget refills."""
    clock = FakeClock()
    budget = RetryBudget(0.2, 10.0, clock=clock, min_retries=3)
    for _ in range(10):
        budget.record_call()
    assert spend_all(budget) == 5

    clock.advance(5.0)
    for _ in range(10):
        budget.record_call()
    assert budget.calls == 20
    assert spend_all(budget) == 2  # 3 + 0.2 x 20 = 7 allowed, 5 already spent

    clock.advance(5.0)  # the first half-window's calls and retries slid out
    assert budget.calls == 10
    assert budget.retries == 2
    assert spend_all(budget) == 3  # 3 + 0.2 x 10 = 5 allowed, 2 spent

    clock.advance(10.0)
    assert (budget.calls, budget.retries) == (0, 0)
    assert spend_all(budget) == 3


def test_a_refused_spend_takes_nothing() -> None:
    """try_spend returning False leaves the count of spent retries unchanged."""
    budget = RetryBudget(0.0, 10.0, clock=FakeClock(), min_retries=1)
    assert budget.try_spend()
    assert not budget.try_spend()
    assert budget.retries == 1


@pytest.mark.parametrize(
    ("ratio", "window_s", "min_retries"),
    [(-0.1, 10.0, 3), (1.5, 10.0, 3), (0.2, 0.0, 3), (0.2, 1.0, -1)],
)
def test_invalid_settings_are_refused(ratio: float, window_s: float, min_retries: int) -> None:
    """A ratio outside [0, 1], an empty window or a negative floor is refused at construction."""
    with pytest.raises(ValueError, match="must be"):
        RetryBudget(ratio, window_s, clock=FakeClock(), min_retries=min_retries)
