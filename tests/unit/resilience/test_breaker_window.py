"""The breaker's sliding windows: the last N calls, or the calls of the last N seconds."""

from __future__ import annotations

from resilience.breaker_config import BreakerConfig
from resilience.breaker_window import CountWindow, TimeWindow, WindowTotals, make_window


def test_a_count_window_keeps_the_last_n_calls() -> None:
    """Recording beyond the size drops the oldest call from the totals."""
    window = CountWindow(3)
    window.record(0.0, failed=True, slow=False)
    window.record(0.0, failed=False, slow=False)
    window.record(0.0, failed=False, slow=False)
    assert window.totals(0.0) == WindowTotals(3, 1, 0)
    window.record(0.0, failed=False, slow=False)  # the failure falls out
    assert window.totals(0.0) == WindowTotals(3, 0, 0)


def test_a_slow_call_counts_as_slow_and_as_failed() -> None:
    """A slow success is a failure for the rate and a slow call for the dashboard."""
    window = CountWindow(5)
    window.record(0.0, failed=False, slow=True)
    window.record(0.0, failed=True, slow=True)
    assert window.totals(0.0) == WindowTotals(2, 2, 2)
    for _ in range(5):
        window.record(0.0, failed=False, slow=False)
    assert window.totals(0.0) == WindowTotals(5, 0, 0)


def test_a_count_window_ignores_time() -> None:
    """However old, the last N calls still count."""
    window = CountWindow(2)
    window.record(0.0, failed=True, slow=False)
    assert window.totals(1e6) == WindowTotals(1, 1, 0)


def test_a_time_window_drops_calls_after_its_size_in_seconds() -> None:
    """A call stays in one-second buckets until its second leaves the window."""
    window = TimeWindow(10)
    window.record(1000.2, failed=True, slow=False)
    assert window.totals(1009.99) == WindowTotals(1, 1, 0)
    assert window.totals(1010.0) == WindowTotals(0, 0, 0)


def test_a_time_window_drops_only_the_seconds_that_passed() -> None:
    """Advancing part of the window keeps the younger buckets."""
    window = TimeWindow(5)
    window.record(100.0, failed=True, slow=False)
    window.record(102.5, failed=False, slow=True)
    window.record(104.0, failed=False, slow=False)
    assert window.totals(104.0) == WindowTotals(3, 2, 1)
    assert window.totals(105.0) == WindowTotals(2, 1, 1)
    assert window.totals(107.9) == WindowTotals(1, 0, 0)
    window.record(108.0, failed=True, slow=False)
    assert window.totals(108.0) == WindowTotals(2, 1, 0)


def test_a_time_window_empties_after_a_long_quiet_spell() -> None:
    """A gap longer than the window clears every bucket, and recording resumes cleanly."""
    window = TimeWindow(3)
    for at in (1.0, 2.0, 3.0):
        window.record(at, failed=True, slow=False)
    assert window.totals(500.0) == WindowTotals(0, 0, 0)
    window.record(500.5, failed=False, slow=False)
    assert window.totals(501.0) == WindowTotals(1, 0, 0)


def test_reset_forgets_everything() -> None:
    """Both windows start over after reset()."""
    for window in (CountWindow(4), TimeWindow(4)):
        window.record(1.0, failed=True, slow=True)
        window.reset()
        assert window.totals(1.0) == WindowTotals(0, 0, 0)
        window.record(1.0, failed=False, slow=False)
        assert window.totals(1.0) == WindowTotals(1, 0, 0)


def test_an_empty_window_has_no_failure_rate() -> None:
    """No calls means a rate of 0, not a division by zero."""
    assert WindowTotals(0, 0, 0).failure_rate == 0.0
    assert WindowTotals(4, 1, 0).failure_rate == 0.25


def test_make_window_follows_the_config() -> None:
    """window: count/time picks the window shape."""
    assert isinstance(make_window(BreakerConfig(window="count")), CountWindow)
    assert isinstance(make_window(BreakerConfig(window="time", window_size=60)), TimeWindow)


def test_failing_says_whether_a_failure_is_still_counted() -> None:
    """``failing`` is false on an empty window and on successes alone, true once a failure or a
    slow call is recorded, and false again once the window has forgotten it (the count window
    by pushing it out, the time window once its second has passed and the window moved on)."""
    count = CountWindow(2)
    assert not count.failing()
    count.record(0.0, failed=False, slow=False)
    assert not count.failing()
    count.record(0.0, failed=False, slow=True)
    assert count.failing()
    count.record(0.0, failed=False, slow=False)
    count.record(0.0, failed=False, slow=False)
    assert not count.failing()
    timed = TimeWindow(3)
    timed.record(10.0, failed=False, slow=False)
    assert not timed.failing()
    timed.record(10.5, failed=True, slow=False)
    assert timed.failing()
    timed.totals(14.0)  # the window moves past that second
    assert not timed.failing()
