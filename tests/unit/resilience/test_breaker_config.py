"""BreakerConfig refuses settings under which a rule could never fire."""

from __future__ import annotations

import pytest

from resilience.breaker import BreakerConfig as ReExported
from resilience.breaker_config import BreakerConfig


def test_a_count_window_must_be_able_to_hold_minimum_calls() -> None:
    """minimum_calls above a count window's size would disable the rate rule silently."""
    with pytest.raises(ValueError, match=r"minimum_calls \(30\) exceeds window_size \(20\)"):
        BreakerConfig(window="count", window_size=20, minimum_calls=30)


def test_a_time_window_may_ask_for_more_calls_than_seconds() -> None:
    """In a time window, window_size is seconds, so a larger minimum_calls is fine."""
    assert BreakerConfig(window="time", window_size=10, minimum_calls=50).minimum_calls == 50


def test_the_config_is_still_importable_from_the_breaker_module() -> None:
    """resilience.breaker.BreakerConfig (used by the settings model) is the same class."""
    assert ReExported is BreakerConfig
