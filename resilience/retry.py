"""Retry with exponential backoff and full jitter, within a deadline and a budget (tenacity).

Only idempotent calls are retried, and only for errors the caller's ``is_retryable`` accepts
(transient ones); ``asyncio.CancelledError`` never is. Between attempts the retrier waits a full
jitter delay, uniform in ``[0, min(backoff_max, backoff * 2**(retry - 1))]``, or a backend's
Retry-After when that is longer. It gives up, re-raising the backend's last error itself (never
a ``tenacity.RetryError``), when the attempts are used, when the next attempt could not start
before the deadline, when the Retry-After is longer than ``retry_after_max``, or when the
backend's retry budget is spent.

tenacity does the looping; the decisions are small strategy objects here, all reading the
injected clock and random generator, so tests run without sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential

from resilience.clock import Clock
from resilience.deadline import Deadline
from resilience.events import Event, EventBus, RetryAttempt
from resilience.retry_budget import RetryBudget

__all__ = ["FullJitter", "Retrier", "RetryConfig", "RetryStopped"]

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryConfig:
    """How idempotent calls that failed transiently are tried again."""

    attempts: int = field(default=3, metadata={"ge": 1, "help": "total tries, the first included"})
    backoff: float = field(
        default=0.1,
        metadata={
            "unit": "seconds",
            "gt": 0,
            "help": "first backoff; doubles each retry, with jitter",
        },
    )
    backoff_max: float = field(
        default=2.0, metadata={"unit": "seconds", "gt": 0, "help": "the largest single backoff"}
    )
    budget: float = field(
        default=0.2,
        metadata={"ge": 0, "le": 1, "help": "retries may be at most this share of calls"},
    )
    budget_window: float = field(
        default=10.0,
        metadata={"unit": "seconds", "gt": 0, "help": "the window the budget is counted over"},
    )

    budget_min_retries: int = field(
        default=3,
        metadata={"ge": 0, "help": "retries allowed per budget window however few the calls"},
    )
    retry_after_max: float = field(
        default=5.0,
        metadata={
            "unit": "seconds",
            "ge": 0,
            "help": "a backend's Retry-After longer than this ends retrying instead of waiting",
        },
    )

    def __post_init__(self) -> None:
        if self.backoff_max < self.backoff:
            raise ValueError(
                f"backoff_max ({self.backoff_max}) must not be smaller than backoff ({self.backoff})"
            )


@dataclass(frozen=True, slots=True)
class RetryStopped(Event):
    """A retryable error was not retried: ``reason`` is attempts, deadline, retry_after or budget."""

    name: str
    attempt: int  # the attempt that failed last
    reason: str
    error: str


class FullJitter(wait_exponential):
    """Full jitter ("Exponential Backoff And Jitter", AWS): uniform in [0, min(max, base·2ⁿ⁻¹)].

    tenacity's ``wait_random_exponential`` draws from the global ``random``; this one takes a
    generator so tests can seed it.
    """

    def __init__(self, *, base: float, max: float, rng: random.Random) -> None:
        super().__init__(multiplier=base, max=max)
        self._rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        return self._rng.uniform(0.0, super().__call__(retry_state))


class _AtLeastRetryAfter(wait_base):
    """The jittered delay, or the backend's Retry-After when that is longer."""

    def __init__(self, inner: wait_base, retry_after: Callable[[RetryCallState], float | None]):
        self._inner = inner
        self._retry_after = retry_after

    def __call__(self, retry_state: RetryCallState) -> float:
        return max(self._inner(retry_state), self._retry_after(retry_state) or 0.0)


class _StopRetrying(stop_base):
    """Decides, after a retryable failure, whether to stop; the budget is spent only on a retry."""

    def __init__(self, retrier: Retrier, deadline: Deadline) -> None:
        self._retrier = retrier
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        reason = self._reason(retry_state)
        if reason is not None:
            self._retrier._publish_stop(retry_state, reason)
        return reason is not None

    def _reason(self, retry_state: RetryCallState) -> str | None:
        retrier = self._retrier
        if retry_state.attempt_number >= retrier.config.attempts:
            return "attempts"
        retry_after = retrier._retry_after(retry_state)
        if retry_after is not None and retry_after > retrier.config.retry_after_max:
            return "retry_after"
        at = self._deadline.at
        if at is not None and retrier._clock.monotonic() + retry_state.upcoming_sleep >= at:
            return "deadline"
        if not retrier.budget.try_spend():
            return "budget"
        return None


class Retrier:
    """Retries one backend's idempotent calls; one per backend, sharing that backend's budget."""

    def __init__(
        self,
        name: str,
        config: RetryConfig,
        *,
        clock: Clock,
        events: EventBus,
        is_retryable: Callable[[BaseException], bool],
        retry_after_of: Callable[[BaseException], float | None] = lambda exc: None,
        budget: RetryBudget | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.config = config
        if budget is None:
            budget = RetryBudget(
                config.budget,
                config.budget_window,
                clock=clock,
                min_retries=config.budget_min_retries,
            )
        self.budget = budget
        self._clock = clock
        self._events = events
        self._is_retryable = is_retryable
        self._retry_after_of = retry_after_of
        self._retry = retry_if_exception(self._should_retry)
        jitter = FullJitter(base=config.backoff, max=config.backoff_max, rng=rng or random.Random())
        self._wait = _AtLeastRetryAfter(jitter, self._retry_after)

    async def run(
        self, fn: Callable[[], Awaitable[T]], *, deadline: Deadline, idempotent: bool
    ) -> T:
        """Await ``fn()``, retrying it as configured; raises its last error unchanged.

        Raises :class:`~resilience.errors.DeadlineExceeded` without calling ``fn`` when the
        deadline has already passed.
        """
        self.begin(deadline)
        # Most calls succeed first time: make that attempt directly (tenacity's machinery costs
        # ~25 µs a call) and hand over to tenacity only after a retryable failure.
        try:
            return await fn()
        except Exception as exc:
            return await self.after_failure(fn, exc, deadline=deadline, idempotent=idempotent)

    def begin(self, deadline: Deadline) -> None:
        """What :meth:`run` does before the first attempt: refuse a deadline already passed,
        and count the call in the retry budget."""
        deadline.check(self.name)
        self.budget.record_call()

    async def after_failure(
        self,
        fn: Callable[[], Awaitable[T]],
        failure: Exception,
        *,
        deadline: Deadline,
        idempotent: bool,
    ) -> T:
        """Go on from a first attempt that raised ``failure``: retry ``fn`` as configured, or
        raise ``failure`` again when it may not be retried."""
        if not idempotent or self.config.attempts == 1 or not self._should_retry(failure):
            raise failure
        first_failure: Exception | None = failure

        async def attempt() -> T:
            nonlocal first_failure
            if first_failure is not None:  # replayed as tenacity's attempt 1, so attempt
                failure, first_failure = first_failure, None  # numbers, waits and stops are
                raise failure  # tenacity's throughout
            return await fn()

        # A fresh AsyncRetrying per call, as tenacity's own decorator does: its per-call state
        # (attempt statistics, the iteration's actions) must not be shared by concurrent calls.
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=_StopRetrying(self, deadline),
            wait=self._wait,
            retry=self._retry,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return cast(T, await retrying(attempt))

    def _should_retry(self, exc: BaseException) -> bool:
        # CancelledError (and KeyboardInterrupt, SystemExit) are not Exceptions: never retried.
        return isinstance(exc, Exception) and self._is_retryable(exc)

    def _retry_after(self, retry_state: RetryCallState) -> float | None:
        exc = _error(retry_state)
        seconds = self._retry_after_of(exc) if exc is not None else None
        return None if seconds is None else max(0.0, seconds)

    async def _sleep(self, seconds: float) -> None:
        await self._clock.sleep(float(seconds))

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        self._events.publish(
            RetryAttempt(
                at=self._clock.monotonic(),
                name=self.name,
                attempt=retry_state.attempt_number + 1,
                delay_s=retry_state.upcoming_sleep,
                error=_describe(_error(retry_state)),
            )
        )

    def _publish_stop(self, retry_state: RetryCallState, reason: str) -> None:
        self._events.publish(
            RetryStopped(
                at=self._clock.monotonic(),
                name=self.name,
                attempt=retry_state.attempt_number,
                reason=reason,
                error=_describe(_error(retry_state)),
            )
        )

    def __repr__(self) -> str:
        return f"Retrier({self.name!r}, attempts={self.config.attempts}, budget={self.budget!r})"


def _error(retry_state: RetryCallState) -> BaseException | None:
    outcome = retry_state.outcome
    return outcome.exception() if outcome is not None and outcome.failed else None


def _describe(exc: BaseException | None) -> str:
    # The class name only: bounded cardinality for metrics, and no backend detail in logs.
    return type(exc).__name__ if exc is not None else ""
