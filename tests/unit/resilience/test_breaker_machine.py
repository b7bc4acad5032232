"""pybreaker really holds the automatic state: its listeners, counters and storage see it all."""

from __future__ import annotations

from typing import Any

import pybreaker

from resilience.breaker_machine import AutomaticMachine, ClockStorage
from resilience.breaker_state import BreakerState
from resilience.clock import FakeClock
from tests.unit.resilience.breaker_support import Harness


class Spy(pybreaker.CircuitBreakerListener):
    def __init__(self) -> None:
        self.changes: list[tuple[str | None, str]] = []
        self.failures = 0
        self.successes = 0

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        self.changes.append((old_state.name if old_state else None, new_state.name))

    def failure(self, cb: Any, exc: BaseException) -> None:
        self.failures += 1

    def success(self, cb: Any) -> None:
        self.successes += 1


async def test_pybreaker_listeners_see_every_automatic_transition_and_outcome() -> None:
    """A listener added to the underlying pybreaker sees the trip, the trial and the close."""
    h = Harness(consecutive_failures=2, open_for=5.0)
    spy = Spy()
    h.breaker.pybreaker.add_listener(spy)
    await h.succeed()
    await h.trip()
    h.clock.advance(5.0)
    await h.succeed()
    assert spy.changes == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    assert (spy.failures, spy.successes) == (2, 2)
    assert h.breaker.pybreaker.current_state == "closed"


async def test_the_consecutive_count_is_pybreakers_fail_counter() -> None:
    """snapshot().consecutive_failures reads pybreaker's own counter."""
    h = Harness(consecutive_failures=10, window_size=100, minimum_calls=100)
    await h.fail(times=4)
    assert h.breaker.pybreaker.fail_counter == 4 == h.breaker.snapshot().consecutive_failures


def test_the_storage_stamps_the_opening_with_the_injected_clock() -> None:
    """pybreaker's wall-clock timestamp is replaced by the fake clock's time."""
    clock = FakeClock()
    changes: list[tuple[BreakerState, BreakerState]] = []
    machine = AutomaticMachine(
        "wms", 1, clock=clock, on_transition=lambda a, b: changes.append((a, b))
    )
    clock.advance(42.0)
    machine.record(failed=True)
    assert machine.state is BreakerState.OPEN
    assert machine.opened_monotonic == clock.monotonic()
    assert machine.opened_at == clock.now()
    assert isinstance(machine.pybreaker._state_storage, ClockStorage)
    assert changes == [(BreakerState.CLOSED, BreakerState.OPEN)]


def test_an_open_machine_ignores_replayed_outcomes() -> None:
    """Outcomes never reach pybreaker while it is open (its open state would read the wall clock)."""
    clock = FakeClock()
    machine = AutomaticMachine("wms", 1, clock=clock, on_transition=lambda a, b: None)
    machine.record(failed=True)
    machine.record(failed=False)
    assert machine.state is BreakerState.OPEN


def test_a_success_still_reaches_listeners_added_to_pybreaker() -> None:
    """Skipping pybreaker for a plain closed success never hides it from a listener someone added."""

    class Successes(pybreaker.CircuitBreakerListener):
        count = 0

        def success(self, cb: pybreaker.CircuitBreaker) -> None:
            self.count += 1

    machine = AutomaticMachine("wms", 3, clock=FakeClock(), on_transition=lambda a, b: None)
    listener = Successes()
    machine.pybreaker.add_listener(listener)
    machine.record(failed=False)
    machine.record(failed=True)
    machine.record(failed=False)  # resets pybreaker's failure counter
    assert listener.count == 2
    assert machine.consecutive_failures == 0
