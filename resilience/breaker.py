"""Circuit breaker: an asyncio breaker per backend (or per operation).

An async wrapper over pybreaker (``breaker_machine`` says why and how): pybreaker holds the
automatic state and counts consecutive failures; the wrapper awaits the call, gates the single
trial, times the open period with the injected clock, and keeps the sliding window
(``breaker_window``) and the operator's forcing (``breaker_forcing``). A slow call counts as a
failure (its result is still returned); an exception ``is_failure`` rejects means the backend
answered and counts as a success; a cancellation counts as nothing. ``BreakerConfig`` lives in
``breaker_config`` and is re-exported here. Decisions: docs/architecture.md, "Circuit breaker".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import NamedTuple, NoReturn, TypeVar

import pybreaker

from resilience.breaker_config import BreakerConfig
from resilience.breaker_forcing import ForceTarget, Forcing, check_force, lifted
from resilience.breaker_machine import AutomaticMachine
from resilience.breaker_state import BreakerSnapshot, BreakerState
from resilience.breaker_window import SlidingWindow, make_window
from resilience.clock import Clock
from resilience.errors import BreakerOpen
from resilience.events import BreakerTransition, CallOutcome, EventBus

__all__ = [
    "TRIAL_UNDER_WAY_RETRY_AFTER",
    "BreakerConfig",
    "CircuitBreaker",
    "Entry",
    "every_exception",
]

T = TypeVar("T")


def every_exception(exc: BaseException) -> bool:
    """The default failure predicate: every exception the call raises counts against the backend."""
    return True


#: How long callers are told to wait while the single trial call is under way.
TRIAL_UNDER_WAY_RETRY_AFTER = 1.0


class Entry(NamedTuple):
    """A call the breaker let through: whether it is the trial, the epoch it was let through
    in, and when."""

    trial: bool
    epoch: int
    started: float


class CircuitBreaker:
    """An asyncio circuit breaker for one backend (or one operation of it).

    ``call(fn)`` awaits ``fn()`` when the breaker lets it through and raises ``BreakerOpen``
    (without calling) when it does not. ``is_failure(exc)`` says which exceptions count against
    the backend (transient errors); the others mean the backend answered (a business fault) and
    count as successes. Cancellation counts as nothing. Every transition and every call outcome
    is published on the event bus.
    """

    def __init__(
        self,
        name: str,
        config: BreakerConfig,
        *,
        clock: Clock,
        events: EventBus,
        is_failure: Callable[[BaseException], bool] = every_exception,
    ) -> None:
        self.name = name
        self._config = config
        self._clock = clock
        self._events = events
        self._is_failure = is_failure
        self._window: SlidingWindow = make_window(config)
        self._forcing: Forcing | None = None
        # Every transition starts a new epoch. A call reports back only into the epoch that
        # admitted it, so a straggler from before a trip cannot reopen or close the breaker, and
        # the trial slot is simply "the trial's epoch is the current one".
        self._epoch = 0
        self._trial_epoch: int | None = None
        self._reason = ""
        self._machine = AutomaticMachine(
            name, config.consecutive_failures, clock=clock, on_transition=self._on_transition
        )

    @property
    def config(self) -> BreakerConfig:
        return self._config

    @property
    def pybreaker(self) -> pybreaker.CircuitBreaker:
        """The pybreaker instance holding the automatic state (add pybreaker listeners here)."""
        return self._machine.pybreaker

    @property
    def state(self) -> BreakerState:
        forcing = self._current_forcing()
        return forcing.state if forcing is not None else self._machine.state

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` if the breaker lets the call through; otherwise raise ``BreakerOpen``."""
        entry = self.enter()
        if entry is None:
            return await fn()
        try:
            result = await fn()
        except Exception as exc:
            self.failed(entry, exc)
            raise
        except BaseException:
            self.abandoned(entry)
            raise
        self.succeeded(entry)
        return result

    def enter(self) -> Entry | None:
        """Let one call through, or raise ``BreakerOpen``: what :meth:`call` does before it
        awaits, for a caller that awaits the call itself and then reports its end exactly once
        (:meth:`succeeded`, :meth:`failed` or :meth:`abandoned`). None: the breaker is forced
        disabled, and the call's end is not reported."""
        forcing = self._current_forcing()
        if forcing is None:
            trial = self._admit()
        elif forcing.state is BreakerState.DISABLED:
            return None
        elif forcing.state is BreakerState.FORCED_OPEN:
            self._reject(forcing.state, forcing.retry_after(self._clock.monotonic()))
        else:
            trial = False
        return Entry(trial, self._epoch, self._clock.monotonic())

    def succeeded(self, entry: Entry) -> None:
        """The call let through by ``entry`` returned."""
        self._settle(entry.epoch, entry.started, "success")

    def failed(self, entry: Entry, exc: Exception) -> None:
        """The call let through by ``entry`` raised ``exc``."""
        self._settle(entry.epoch, entry.started, "failure" if self._is_failure(exc) else "ignored")

    def abandoned(self, entry: Entry) -> None:
        """The call let through by ``entry`` was cancelled (or the interpreter is leaving):
        nothing is known about the backend."""
        if entry.trial and self._trial_epoch == entry.epoch:
            self._trial_epoch = None  # the next caller may make the trial
        self._publish_outcome("ignored", entry.started, self._clock.monotonic())

    def retry_after(self) -> float | None:
        """Seconds until calls will be let through again; None when that is not known (or now)."""
        forcing = self._current_forcing()
        if forcing is None:
            return self._auto_retry_after()
        if forcing.state is BreakerState.FORCED_OPEN:
            return forcing.retry_after(self._clock.monotonic())
        return None

    def force(
        self,
        target: ForceTarget,
        *,
        ttl_s: float | None = None,
        reason: str = "",
        actor: str = "",
    ) -> BreakerSnapshot:
        """Set a state by hand (optionally for ``ttl_s`` seconds), or hand back to ``auto``.

        ``auto`` always closes and empties the window, so it doubles as the operator's reset.
        """
        check_force(target, ttl_s)
        before = self.state
        if target == "auto":
            self._forcing = None
            self._reset_machine()
            after, why = BreakerState.CLOSED, lifted(actor, reason)
        else:
            forcing = Forcing.begin(
                target, ttl_s=ttl_s, reason=reason, actor=actor, clock=self._clock
            )
            self._forcing = forcing
            self._epoch += 1  # calls admitted before the forcing report into nothing
            after, why = forcing.state, forcing.describe()
        if after is not before:
            self._publish_transition(before, after, why)
        return self.snapshot()

    def tick(self) -> None:
        """Apply an expired forcing TTL now (otherwise it is applied on the next use)."""
        self._current_forcing()

    def reconfigure(self, config: BreakerConfig) -> None:
        """Take a reloaded configuration, keeping the state; a reshaped window starts empty."""
        old, self._config = self._config, config
        self._machine.set_fail_max(config.consecutive_failures)
        if (old.window, old.window_size) != (config.window, config.window_size):
            self._window = make_window(config)

    def snapshot(self) -> BreakerSnapshot:
        forcing = self._current_forcing()
        totals = self._window.totals(self._clock.monotonic())
        auto = self._machine.state
        opened_at = self._machine.opened_at if auto is not BreakerState.CLOSED else None
        next_trial_at = None
        if auto is BreakerState.OPEN and opened_at is not None:
            next_trial_at = opened_at + timedelta(seconds=self._config.open_for)
        if forcing is not None:
            opened_at = None
            next_trial_at = forcing.until_at if forcing.state is BreakerState.FORCED_OPEN else None
        return BreakerSnapshot(
            name=self.name,
            state=forcing.state if forcing is not None else auto,
            calls=totals.calls,
            failures=totals.failures,
            slow_calls=totals.slow,
            failure_rate=totals.failure_rate,
            consecutive_failures=self._machine.consecutive_failures,
            opened_at=opened_at,
            next_trial_at=next_trial_at,
            retry_after=self.retry_after(),
            trial_in_flight=forcing is None and self._trial_epoch == self._epoch,
            forced=forcing.state if forcing is not None else None,
            forced_until=forcing.until_at if forcing is not None else None,
            forced_reason=forcing.reason if forcing is not None else "",
            forced_by=forcing.actor if forcing is not None else "",
        )

    def _admit(self) -> bool:
        """Let a call through in automatic mode, or raise; True when the call is the trial."""
        state = self._machine.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN:
            remaining = self._machine.seconds_until_trial(self._config.open_for)
            if remaining > 0:
                self._reject(state, remaining)
            self._reason = f"open for {self._config.open_for:g}s: one trial call"
            self._machine.half_open()
        elif self._trial_epoch == self._epoch:
            self._reject(state, min(TRIAL_UNDER_WAY_RETRY_AFTER, self._config.open_for))
        self._trial_epoch = self._epoch
        return True

    def _reject(self, state: BreakerState, retry_after: float | None) -> NoReturn:
        now = self._clock.monotonic()
        self._publish_outcome("rejected", now, now)
        raise BreakerOpen(
            f"circuit breaker {self.name!r} is {state}", name=self.name, retry_after=retry_after
        )

    def _auto_retry_after(self) -> float | None:
        state = self._machine.state
        if state is BreakerState.OPEN:
            return max(0.0, self._machine.seconds_until_trial(self._config.open_for))
        if state is BreakerState.HALF_OPEN:
            if self._trial_epoch == self._epoch:
                return min(TRIAL_UNDER_WAY_RETRY_AFTER, self._config.open_for)
            return 0.0
        return None

    def _settle(self, epoch: int, started: float, kind: str) -> None:
        """Record a finished call: publish it, then let it move the state if it is still current."""
        now = self._clock.monotonic()
        duration = now - started
        slow_after = self._config.slow_call
        slow = slow_after is not None and duration > slow_after
        failed = kind == "failure" or slow
        outcome = "slow" if slow and kind != "failure" else kind
        self._publish_outcome(outcome, started, now)
        if epoch != self._epoch:
            return  # admitted before the last transition: it says nothing about the present
        self._window.record(now, failed=failed, slow=slow)
        if self._forcing is not None:
            return  # forced closed: recorded for the numbers, never trips
        if self._machine.state is BreakerState.HALF_OPEN:
            self._reason = f"trial call: {outcome}"
            self._machine.record(failed=failed)
            return
        if failed:  # the reason if this failure trips the count (a success trips nothing)
            self._reason = f"{self._config.consecutive_failures} consecutive failures"
        self._machine.record(failed=failed)
        if self._machine.state is BreakerState.CLOSED and self._window.failing():
            self._trip_on_rate(now)

    def _trip_on_rate(self, now: float) -> None:
        config = self._config
        totals = self._window.totals(now)
        if totals.calls >= config.minimum_calls and totals.failure_rate >= config.failure_rate:
            self._reason = (
                f"failure rate {totals.failure_rate:.0%} over {totals.calls} calls"
                f" (threshold {config.failure_rate:.0%}; {totals.slow} slow)"
            )
            self._machine.open()

    def _publish_outcome(self, outcome: str, started: float, now: float) -> None:
        if self._events.wants(CallOutcome):  # one per backend call: built only if heard
            self._events.publish(
                CallOutcome(at=now, breaker=self.name, outcome=outcome, duration_s=now - started)
            )

    def _on_transition(self, before: BreakerState, after: BreakerState) -> None:
        """pybreaker changed state (listener callback): start an epoch and tell the bus."""
        self._epoch += 1
        if after is BreakerState.CLOSED:
            self._window.reset()
        if before is not after:
            self._publish_transition(before, after, self._reason)

    def _publish_transition(self, before: BreakerState, after: BreakerState, reason: str) -> None:
        self._events.publish(
            BreakerTransition(
                at=self._clock.monotonic(),
                breaker=self.name,
                before=before.value,
                after=after.value,
                reason=reason,
            )
        )

    def _reset_machine(self) -> None:
        """Closed, empty window, counters at zero; the caller publishes the transition."""
        self._machine.reset()
        self._window.reset()
        self._epoch += 1

    def _current_forcing(self) -> Forcing | None:
        """The operator's forcing, after lifting it if its TTL has run out."""
        forcing = self._forcing
        if forcing is None or not forcing.has_expired(self._clock.monotonic()):
            return forcing
        self._forcing = None
        self._reset_machine()
        self._publish_transition(forcing.state, BreakerState.CLOSED, forcing.describe_expiry())
        return None
