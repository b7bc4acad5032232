"""The automatic closed → open → half-open machine: pybreaker, fed outcomes after the fact.

pybreaker holds the state, counts consecutive failures, trips at ``fail_max``, closes on a trial
success and reopens on a trial failure, and tells its listeners about every change. What it cannot
do on an event loop is run the call: its async support is Tornado-only, wrapping ``await`` in
``with calling()`` would count a cancellation as a failure, and its open state reads the wall
clock. So :class:`AutomaticMachine` never lets pybreaker see a call. The async wrapper awaits
the call itself, classifies the outcome, and *replays* it here through pybreaker's public
``calling()`` context — an empty block for a success, a marker exception for a failure — and only
while pybreaker is closed or half-open. Timing the open period and gating the single trial are
the wrapper's job; pybreaker's own timer (``reset_timeout``) is never consulted.

This module is the one place that touches pybreaker's API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pybreaker

from resilience.breaker_state import BreakerState
from resilience.clock import Clock

__all__ = ["AutomaticMachine", "ClockStorage"]

_STATES = {
    pybreaker.STATE_CLOSED: BreakerState.CLOSED,
    pybreaker.STATE_OPEN: BreakerState.OPEN,
    pybreaker.STATE_HALF_OPEN: BreakerState.HALF_OPEN,
}

#: Called with (before, after) on every pybreaker state change.
OnTransition = Callable[[BreakerState, BreakerState], None]


class ClockStorage(pybreaker.CircuitMemoryStorage):
    """pybreaker's in-memory storage, stamping the moment it opens with the injected clock.

    pybreaker passes ``datetime.now(UTC)`` when it opens; that value is ignored so that a
    FakeClock drives the open period in tests and monotonic time drives it in production.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._clock = clock
        self.opened_monotonic: float | None = None
        self._opened_at: datetime | None = None

    @property
    def opened_at(self) -> datetime | None:
        return self._opened_at

    @opened_at.setter
    def opened_at(self, _wall_clock: datetime) -> None:
        self.opened_monotonic = self._clock.monotonic()
        self._opened_at = self._clock.now()


class _Failed(Exception):
    """Stands in for a failed call when its outcome is replayed into pybreaker."""


class _Relay(pybreaker.CircuitBreakerListener):
    """Turns pybreaker's state-change callback into (before, after) for the wrapper."""

    def __init__(self, on_transition: OnTransition) -> None:
        self._on_transition = on_transition
        self.muted = False

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if self.muted:
            return
        before = _STATES[old_state.name] if old_state is not None else BreakerState.CLOSED
        self._on_transition(before, _STATES[new_state.name])


class AutomaticMachine:
    """One pybreaker circuit breaker, driven explicitly and timestamped by the injected clock."""

    def __init__(
        self, name: str, consecutive_failures: int, *, clock: Clock, on_transition: OnTransition
    ) -> None:
        self.storage = ClockStorage(clock)
        self._clock = clock
        self._relay = _Relay(on_transition)
        self.pybreaker = pybreaker.CircuitBreaker(
            fail_max=consecutive_failures,
            success_threshold=1,
            state_storage=self.storage,
            listeners=[self._relay],
            name=name,
            # Re-raise our marker on a trip instead of a CircuitBreakerError: the caller's own
            # exception is what its caller sees, whatever pybreaker decided.
            throw_new_error_on_trip=False,
        )

    @property
    def state(self) -> BreakerState:
        return _STATES[self.storage.state]

    @property
    def consecutive_failures(self) -> int:
        return self.storage.counter

    @property
    def opened_monotonic(self) -> float | None:
        return self.storage.opened_monotonic

    @property
    def opened_at(self) -> datetime | None:
        return self.storage.opened_at

    def seconds_until_trial(self, open_for: float) -> float:
        """Time left of the open period (zero or less once it is over)."""
        opened = self.storage.opened_monotonic
        return 0.0 if opened is None else opened + open_for - self._clock.monotonic()

    def set_fail_max(self, consecutive_failures: int) -> None:
        self.pybreaker.fail_max = consecutive_failures

    def record(self, *, failed: bool) -> None:
        """Replay one finished call: a failure may trip (closed) or reopen (half-open)."""
        storage = self.storage
        if storage.state == pybreaker.STATE_OPEN:
            return  # never reached by the wrapper; pybreaker would consult the wall clock here
        if (
            not failed
            and storage.state == pybreaker.STATE_CLOSED
            and storage.counter == 0
            and len(self.pybreaker.listeners) == 1
        ):
            return  # the common case: pybreaker would change nothing and tell only our relay
        try:
            with self.pybreaker.calling():
                if failed:
                    raise _Failed
        except _Failed:
            pass

    def open(self) -> None:
        self.pybreaker.open()

    def half_open(self) -> None:
        self.pybreaker.half_open()

    def reset(self) -> None:
        """Close with the counters at zero, without reporting it: the caller reports the change."""
        self._relay.muted = True
        try:
            self.pybreaker.close()
        finally:
            self._relay.muted = False
