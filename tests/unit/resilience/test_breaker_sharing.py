"""Operators' forcings through the store: one process forces, the others apply it once each.

Two registries over one store stand for two processes of a gateway (two workers sharing the
SQLite file, or two replicas sharing PostgreSQL); time is the injected clock's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from resilience.breaker_config import BreakerConfig
from resilience.breaker_forcing import ForceTarget
from resilience.breaker_registry import BreakerRegistry
from resilience.breaker_sharing import SharedForcings
from resilience.breaker_state import BreakerState
from resilience.clock import FakeClock
from resilience.events import BreakerTransition, Event, EventBus
from resilience.store import Store


@dataclass
class Process:
    """One gateway process's breakers and its view of the shared forcings."""

    breakers: BreakerRegistry
    forcings: SharedForcings
    transitions: list[BreakerTransition]

    def state(self, name: str = "erp") -> BreakerState:
        breaker = self.breakers.find(name)
        assert breaker is not None
        return breaker.state


def process(store: Store, clock: FakeClock, *names: str) -> Process:
    events = EventBus()
    transitions: list[BreakerTransition] = []

    def keep(event: Event) -> None:
        if isinstance(event, BreakerTransition):
            transitions.append(event)

    events.subscribe(keep)
    breakers = BreakerRegistry(clock=clock, events=events)
    for name in names or ("erp",):
        backend, _, operation = name.partition(":")
        config = BreakerConfig(per_operation=bool(operation))
        breakers.get(backend, config, operation or None)
    return Process(breakers, SharedForcings(store, breakers, clock), transitions)


async def force(
    at: Process, state: ForceTarget, *, ttl_s: float | None = None, name: str = "erp"
) -> None:
    """What ``POST /ops/breakers/{name}`` does: apply here, then publish."""
    breaker = at.breakers.find(name)
    assert breaker is not None
    breaker.force(state, ttl_s=ttl_s, reason="ERP maintenance", actor="ops")
    await at.forcings.publish(name, state, ttl_s=ttl_s, reason="ERP maintenance", actor="ops")


async def test_a_forcing_reaches_another_process_once_with_its_reason(
    store: Store, clock: FakeClock
) -> None:
    """B applies A's forced_open on its next read, with the actor and reason, and only once."""
    a, b = process(store, clock), process(store, clock)
    await force(a, "forced_open")

    assert await b.forcings.sync() == ["erp"]
    assert await b.forcings.sync() == []
    assert await a.forcings.sync() == []  # its own forcing is not applied twice

    assert b.state() is BreakerState.FORCED_OPEN
    [transition] = b.transitions
    assert transition.after == "forced_open" and "ops" in transition.reason
    assert "ERP maintenance" in transition.reason
    assert len(a.transitions) == 1


async def test_a_ttl_counts_from_when_it_was_set_not_from_when_it_arrived(
    store: Store, clock: FakeClock
) -> None:
    """A 60 s forcing read 20 s later holds 40 s more there; one read after it ran out is not
    applied at all."""
    a, b, late = process(store, clock), process(store, clock), process(store, clock)
    await force(a, "forced_open", ttl_s=60)
    clock.advance(20)

    await b.forcings.sync()
    breaker = b.breakers.find("erp")
    assert breaker is not None
    snapshot = breaker.snapshot()
    assert snapshot.state is BreakerState.FORCED_OPEN
    assert snapshot.retry_after == pytest.approx(40)

    clock.advance(41)
    assert await late.forcings.sync() == []
    assert b.state() is late.state() is BreakerState.CLOSED


async def test_a_hand_back_to_auto_reaches_everyone(store: Store, clock: FakeClock) -> None:
    """auto after a forcing is a forcing too: the other process returns to automatic."""
    a, b = process(store, clock), process(store, clock)
    await force(a, "forced_open")
    await b.forcings.sync()
    await force(a, "auto")

    assert await b.forcings.sync() == ["erp"]

    assert b.state() is BreakerState.CLOSED
    assert [t.after for t in b.transitions] == ["forced_open", "closed"]


async def test_a_process_that_starts_later_applies_what_is_in_force(
    store: Store, clock: FakeClock
) -> None:
    """A worker restarted during the maintenance holds the breaker open from its first read."""
    a = process(store, clock)
    await force(a, "disabled")

    restarted = process(store, clock)
    await restarted.forcings.sync()

    assert restarted.state() is BreakerState.DISABLED


async def test_a_forcing_for_a_breaker_not_made_yet_waits_for_it(
    store: Store, clock: FakeClock
) -> None:
    """A per-operation breaker this process has not called yet gets the forcing once it exists."""
    a = process(store, clock, "erp:SalesOrder.Read")
    b = process(store, clock, "erp:Item.Read")
    await force(a, "forced_open", name="erp:SalesOrder.Read")

    assert await b.forcings.sync() == []
    b.breakers.get("erp", BreakerConfig(per_operation=True), "SalesOrder.Read")
    assert await b.forcings.sync() == ["erp:SalesOrder.Read"]
    assert b.state("erp:SalesOrder.Read") is BreakerState.FORCED_OPEN


async def test_the_last_forcing_written_wins_everywhere(store: Store, clock: FakeClock) -> None:
    """Two operators on two processes: after a read each, both hold the one written last."""
    a, b = process(store, clock), process(store, clock)
    await force(a, "forced_open")
    await force(b, "forced_closed")

    await a.forcings.sync()
    await b.forcings.sync()

    assert a.state() is b.state() is BreakerState.FORCED_CLOSED
