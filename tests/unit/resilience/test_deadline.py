"""Deadline: one instant on the injected clock that every layer measures itself against."""

from __future__ import annotations

import pytest

from resilience.clock import FakeClock
from resilience.deadline import Deadline
from resilience.errors import DeadlineExceeded


def test_remaining_counts_down_with_the_clock_and_never_goes_negative() -> None:
    """Time passing on the clock is time gone from the deadline, floored at zero."""
    clock = FakeClock()
    deadline = Deadline(clock, 2.0)
    assert deadline.at == clock.monotonic() + 2.0
    clock.advance(0.5)
    assert deadline.remaining() == pytest.approx(1.5)
    assert not deadline.expired()
    clock.advance(5.0)
    assert deadline.remaining() == 0.0
    assert deadline.expired()


def test_expires_exactly_at_its_instant() -> None:
    """At the deadline's instant no time is left: it counts as expired."""
    clock = FakeClock()
    deadline = Deadline(clock, 1.0)
    clock.advance(1.0)
    assert deadline.expired()


def test_no_deadline_never_expires_and_caps_nothing() -> None:
    """``seconds=None`` means unlimited: no instant, no remaining, timeouts pass through."""
    clock = FakeClock()
    deadline = Deadline(clock, None)
    clock.advance(1e6)
    assert deadline.at is None
    assert deadline.remaining() is None
    assert not deadline.expired()
    assert deadline.cap(3.0) == 3.0
    assert deadline.cap(None) is None


def test_cap_takes_the_smaller_of_timeout_and_time_left() -> None:
    """A per-attempt timeout is shortened to what is left of the deadline, never lengthened."""
    clock = FakeClock()
    deadline = Deadline(clock, 2.0)
    assert deadline.cap(5.0) == 2.0
    assert deadline.cap(0.5) == 0.5
    assert deadline.cap(None) == 2.0
    clock.advance(1.75)
    assert deadline.cap(5.0) == pytest.approx(0.25)


def test_check_raises_deadline_exceeded_naming_the_backend_once_expired() -> None:
    """``check`` passes while time is left and raises DeadlineExceeded after."""
    clock = FakeClock()
    deadline = Deadline(clock, 0.1)
    deadline.check("erp")
    clock.advance(0.1)
    with pytest.raises(DeadlineExceeded, match="erp") as caught:
        deadline.check("erp")
    assert caught.value.name == "erp"


@pytest.mark.parametrize("seconds", [-0.1, float("nan")])
def test_negative_or_nan_seconds_are_refused(seconds: float) -> None:
    """A deadline in the past or of NaN seconds is a programming error, refused at once."""
    with pytest.raises(ValueError, match="seconds"):
        Deadline(FakeClock(), seconds)
