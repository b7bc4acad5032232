"""Retrier: transient errors of idempotent calls are retried with full jitter, within limits."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from resilience.clock import FakeClock
from resilience.deadline import Deadline
from resilience.errors import DeadlineExceeded
from resilience.events import EventBus, RetryAttempt
from resilience.retry import Retrier, RetryConfig, RetryStopped
from resilience.retry_budget import RetryBudget


class Transient(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("backend hiccup")
        self.retry_after = retry_after


class Permanent(Exception):
    pass


@dataclass
class Backend:
    """Fails with the given errors in turn, then answers "ok"; each call may take time."""

    clock: FakeClock
    errors: list[BaseException] = field(default_factory=list)
    takes: float = 0.0
    calls: int = 0
    started_at: list[float] = field(default_factory=list)

    async def __call__(self) -> str:
        self.calls += 1
        self.started_at.append(self.clock.monotonic())
        if self.takes:
            await self.clock.sleep(self.takes)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@dataclass
class World:
    clock: FakeClock
    events: list[Any]
    retrier: Retrier

    def backend(self, *errors: BaseException, takes: float = 0.0) -> Backend:
        return Backend(self.clock, list(errors), takes)

    def slept(self) -> list[float]:
        return self.clock.slept

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def world(
    *,
    shared_budget: RetryBudget | None = None,
    seed: int = 7,
    is_retryable: Any = None,
    **config: Any,
) -> World:
    clock = FakeClock()
    bus = EventBus()
    events: list[Any] = []
    bus.subscribe(events.append)
    retrier = Retrier(
        "erp",
        RetryConfig(**config),
        clock=clock,
        events=bus,
        is_retryable=is_retryable or (lambda exc: isinstance(exc, Transient)),
        retry_after_of=lambda exc: getattr(exc, "retry_after", None),
        budget=shared_budget,
        rng=random.Random(seed),
    )
    return World(clock, events, retrier)


def no_deadline(w: World) -> Deadline:
    return Deadline(w.clock, None)


async def test_transient_errors_of_idempotent_calls_are_retried_until_success() -> None:
    """Two transient failures then an answer: three calls, the answer returned."""
    w = world(attempts=3)
    backend = w.backend(Transient(), Transient())
    assert await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True) == "ok"
    assert backend.calls == 3


async def test_non_idempotent_calls_are_never_retried() -> None:
    """A write without an idempotency key fails on its first transient error, unchanged."""
    w = world(attempts=5)
    error = Transient()
    backend = w.backend(error)
    with pytest.raises(Transient) as caught:
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=False)
    assert caught.value is error
    assert backend.calls == 1
    assert w.events == []


async def test_permanent_errors_are_not_retried() -> None:
    """An error is_retryable rejects is raised after one call, with no retry events."""
    w = world(attempts=5)
    backend = w.backend(Permanent("no such order"))
    with pytest.raises(Permanent):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 1
    assert w.events == []


async def test_attempts_cap_total_tries_and_the_last_error_itself_is_raised() -> None:
    """With attempts=3 a backend failing forever is called 3 times; the 3rd error comes out as is."""
    w = world(attempts=3)
    errors = [Transient(), Transient(), Transient(), Transient()]
    backend = w.backend(*errors)
    with pytest.raises(Transient) as caught:
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 3
    assert caught.value is errors[2]
    [stopped] = w.of(RetryStopped)
    assert (stopped.name, stopped.attempt, stopped.reason) == ("erp", 3, "attempts")


async def test_one_attempt_means_no_retry() -> None:
    """attempts=1 turns retrying off."""
    w = world(attempts=1)
    backend = w.backend(Transient())
    with pytest.raises(Transient):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 1


async def test_delays_are_full_jitter_over_a_doubling_base_capped_at_backoff_max() -> None:
    """Each delay is uniform in [0, min(backoff_max, backoff * 2**(n-1))], drawn from the rng given."""
    w = world(attempts=7, backoff=0.1, backoff_max=0.5, budget_min_retries=100, seed=42)
    backend = w.backend(*[Transient() for _ in range(6)])
    await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    ceilings = [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    rng = random.Random(42)
    assert w.slept() == pytest.approx([rng.uniform(0, c) for c in ceilings])
    assert all(0 <= d <= c for d, c in zip(w.slept(), ceilings, strict=True))


async def test_full_jitter_spreads_delays_over_the_whole_range() -> None:
    """Over many seeds the first delay covers [0, backoff] (low and high ends), never beyond it."""
    firsts = []
    for seed in range(200):
        w = world(attempts=2, backoff=0.1, backoff_max=1.0, seed=seed)
        await w.retrier.run(w.backend(Transient()), deadline=no_deadline(w), idempotent=True)
        firsts.append(w.slept()[0])
    assert min(firsts) < 0.01
    assert 0.09 < max(firsts) <= 0.1


async def test_a_retry_event_is_published_before_each_retry() -> None:
    """RetryAttempt names the backend, the attempt about to be made, its delay and the error class."""
    w = world(attempts=3)
    backend = w.backend(Transient(), Transient())
    await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    attempts = w.of(RetryAttempt)
    assert [(e.name, e.attempt, e.error) for e in attempts] == [
        ("erp", 2, "Transient"),
        ("erp", 3, "Transient"),
    ]
    assert [e.delay_s for e in attempts] == w.slept()


async def test_retry_after_is_waited_for_at_least() -> None:
    """A backend's Retry-After longer than the jittered backoff sets the delay."""
    w = world(attempts=2, backoff=0.1, retry_after_max=5.0)
    backend = w.backend(Transient(retry_after=1.5))
    assert await w.retrier.run(backend, deadline=Deadline(w.clock, 10.0), idempotent=True) == "ok"
    assert w.slept() == [1.5]
    assert backend.started_at[1] - backend.started_at[0] == pytest.approx(1.5)


async def test_a_retry_after_past_the_deadline_ends_retrying_with_the_backend_error() -> None:
    """When waiting out Retry-After would pass the deadline, no retry: the error is raised now."""
    w = world(attempts=3, retry_after_max=5.0)
    error = Transient(retry_after=3.0)
    backend = w.backend(error)
    with pytest.raises(Transient) as caught:
        await w.retrier.run(backend, deadline=Deadline(w.clock, 2.0), idempotent=True)
    assert caught.value is error
    assert backend.calls == 1
    assert w.slept() == []
    assert w.of(RetryStopped)[0].reason == "deadline"


async def test_a_retry_after_longer_than_retry_after_max_is_not_waited_for() -> None:
    """Retry-After beyond retry_after_max ends retrying even without a deadline."""
    w = world(attempts=3, retry_after_max=5.0)
    backend = w.backend(Transient(retry_after=60.0))
    with pytest.raises(Transient):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 1
    assert w.of(RetryStopped)[0].reason == "retry_after"


async def test_no_attempt_starts_after_a_wait_that_would_reach_the_deadline() -> None:
    """Slow failing calls under a 1 s deadline: every attempt starts before it, the last error is raised."""
    w = world(attempts=10, backoff=0.05, backoff_max=0.05, budget_min_retries=100)
    deadline = Deadline(w.clock, 1.0)
    errors = [Transient() for _ in range(10)]
    backend = w.backend(*errors, takes=0.3)
    with pytest.raises(Transient) as caught:
        await w.retrier.run(backend, deadline=deadline, idempotent=True)
    assert 1 < backend.calls < 10
    assert all(start < deadline.at for start in backend.started_at)  # type: ignore[operator]
    assert caught.value is errors[backend.calls - 1]
    assert w.of(RetryStopped)[0].reason == "deadline"


async def test_an_expired_deadline_means_no_call_at_all() -> None:
    """Past its deadline the retrier raises DeadlineExceeded without calling the backend."""
    w = world()
    deadline = Deadline(w.clock, 0.5)
    w.clock.advance(0.5)
    backend = w.backend()
    with pytest.raises(DeadlineExceeded):
        await w.retrier.run(backend, deadline=deadline, idempotent=True)
    assert backend.calls == 0


async def test_every_call_is_recorded_in_the_budget_and_every_retry_spends_from_it() -> None:
    """Calls (not attempts) are counted, idempotent or not; each retry takes one from the budget."""
    clock = FakeClock()
    budget = RetryBudget(0.5, 10.0, clock=clock, min_retries=0)
    w = world(attempts=3, shared_budget=budget)
    await w.retrier.run(w.backend(), deadline=no_deadline(w), idempotent=False)
    await w.retrier.run(w.backend(), deadline=no_deadline(w), idempotent=True)
    assert (budget.calls, budget.retries) == (2, 0)
    await w.retrier.run(w.backend(Transient()), deadline=no_deadline(w), idempotent=True)
    assert (budget.calls, budget.retries) == (3, 1)


async def test_an_exhausted_budget_stops_retries_and_says_so() -> None:
    """With the budget spent, a transient error is raised after one call and RetryStopped says budget."""
    clock = FakeClock()
    budget = RetryBudget(0.2, 10.0, clock=clock, min_retries=0)
    w = world(attempts=3, shared_budget=budget)
    for _ in range(9):
        await w.retrier.run(w.backend(), deadline=no_deadline(w), idempotent=True)
    # 10th call: 0.2 x 10 = 2 retries in the budget, then it is spent.
    backend = w.backend(Transient(), Transient(), Transient())
    with pytest.raises(Transient):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 3
    backend = w.backend(Transient())
    with pytest.raises(Transient):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 1
    assert w.of(RetryStopped)[-1].reason == "budget"


async def test_the_budget_is_built_from_the_config_by_default() -> None:
    """Without an injected budget, the retrier's own follows budget, budget_window and the floor."""
    w = world(budget=0.3, budget_window=20.0, budget_min_retries=1)
    assert (w.retrier.budget.ratio, w.retrier.budget.window_s) == (0.3, 20.0)
    assert w.retrier.budget.min_retries == 1


async def test_cancellation_raised_by_the_call_is_never_retried() -> None:
    """CancelledError propagates after one call even if is_retryable would accept anything."""
    w = world(attempts=5, is_retryable=lambda exc: True)
    backend = w.backend(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await w.retrier.run(backend, deadline=no_deadline(w), idempotent=True)
    assert backend.calls == 1
    assert w.events == []
    assert w.retrier.budget.retries == 0


async def test_cancellation_during_the_backoff_ends_the_call() -> None:
    """A caller cancelled while the retrier waits between attempts is not called again."""
    w = world(attempts=5)
    gate = asyncio.Event()

    async def hanging_sleep(seconds: float) -> None:
        gate.set()
        await asyncio.Future()  # never resolves: the backoff outlasts the caller

    w.clock.sleep = hanging_sleep  # type: ignore[method-assign]
    backend = w.backend(Transient(), Transient())
    task = asyncio.ensure_future(w.retrier.run(backend, deadline=no_deadline(w), idempotent=True))
    await gate.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert backend.calls == 1
