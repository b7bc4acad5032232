"""The event bus: subscribers hear the kinds they name, and a publisher can ask who listens."""

from __future__ import annotations

from typing import Any

from resilience.breaker import CircuitBreaker
from resilience.breaker_config import BreakerConfig
from resilience.clock import FakeClock
from resilience.events import BreakerTransition, CallOutcome, EventBus, RetryAttempt

TRANSITION = BreakerTransition(at=1.0, breaker="erp", before="closed", after="open", reason="x")
OUTCOME = CallOutcome(at=1.0, breaker="erp", outcome="success", duration_s=0.1)


def test_a_subscriber_hears_only_the_kinds_it_names() -> None:
    """A subscriber to transitions gets the transition, not the call outcome; one that names
    no kind gets both, in order."""
    bus = EventBus()
    transitions: list[Any] = []
    everything: list[Any] = []
    bus.subscribe(transitions.append, (BreakerTransition,))
    bus.subscribe(everything.append)
    bus.publish(OUTCOME)
    bus.publish(TRANSITION)
    assert transitions == [TRANSITION]
    assert everything == [OUTCOME, TRANSITION]


def test_wants_follows_subscribing_and_unsubscribing() -> None:
    """``wants`` says whether anyone listens for a kind, before and after subscribers come
    and go (what it remembers is forgotten on every change)."""
    bus = EventBus()
    assert not bus.wants(CallOutcome)
    unsubscribe = bus.subscribe(lambda _: None, (BreakerTransition, RetryAttempt))
    assert bus.wants(BreakerTransition) and bus.wants(RetryAttempt)
    assert not bus.wants(CallOutcome)
    everything = bus.subscribe(lambda _: None)
    assert bus.wants(CallOutcome)
    everything()
    assert not bus.wants(CallOutcome)
    unsubscribe()
    assert not bus.wants(BreakerTransition)


class _Recording(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[Any] = []

    def publish(self, event: Any) -> None:
        self.published.append(event)
        super().publish(event)


async def test_the_breaker_builds_no_call_outcome_nobody_listens_for() -> None:
    """With only a transitions subscriber, a breaker's successful calls publish nothing; with a
    subscriber to outcomes, each call publishes its outcome."""

    async def call() -> str:
        return "ok"

    for kinds, expected in (((BreakerTransition,), []), ((CallOutcome,), ["success"] * 2)):
        bus = _Recording()
        bus.subscribe(lambda _: None, kinds)
        breaker = CircuitBreaker("erp", BreakerConfig(), clock=FakeClock(), events=bus)
        assert [await breaker.call(call) for _ in range(2)] == ["ok", "ok"]
        assert [e.outcome for e in bus.published if isinstance(e, CallOutcome)] == expected
