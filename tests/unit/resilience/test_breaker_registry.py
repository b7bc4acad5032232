"""The breaker registry: one breaker per backend, or per operation, found by name."""

from __future__ import annotations

import contextlib

from resilience.breaker_config import BreakerConfig
from resilience.breaker_registry import BreakerRegistry, breaker_name
from resilience.clock import FakeClock
from resilience.events import EventBus
from tests.unit.resilience.breaker_support import BusinessFault, Transient, is_transient


def registry() -> BreakerRegistry:
    return BreakerRegistry(clock=FakeClock(), events=EventBus())


def test_one_breaker_per_backend_by_default() -> None:
    """Every operation of a backend shares the backend's breaker, named after it."""
    reg = registry()
    config = BreakerConfig()
    read = reg.get("erp", config, "SalesOrder.Read")
    assert reg.get("erp", config, "Item.Read") is read
    assert reg.get("erp", config) is read
    assert read.name == "erp"


def test_one_breaker_per_operation_when_configured() -> None:
    """per_operation gives each operation its own breaker, named backend:operation."""
    reg = registry()
    config = BreakerConfig(per_operation=True)
    read = reg.get("erp", config, "SalesOrder.Read")
    items = reg.get("erp", config, "Item.Read")
    assert read is not items
    assert (read.name, items.name) == ("erp:SalesOrder.Read", "erp:Item.Read")
    assert breaker_name("erp", config) == "erp"


def test_all_lists_by_name_and_find_looks_one_up() -> None:
    """The ops API lists breakers in name order and finds one by its name."""
    reg = registry()
    wms = reg.get("wms", BreakerConfig())
    crm = reg.get("crm", BreakerConfig())
    assert reg.all() == [crm, wms]
    assert reg.find("wms") is wms
    assert reg.find("nope") is None


async def test_a_reloaded_config_applies_to_the_existing_breaker() -> None:
    """A changed config reconfigures the breaker in place, keeping its state."""
    reg = registry()
    breaker = reg.get("erp", BreakerConfig(consecutive_failures=1, open_for=30.0))

    async def fail() -> None:
        raise RuntimeError("down")

    with contextlib.suppress(RuntimeError):
        await breaker.call(fail)
    reloaded = BreakerConfig(consecutive_failures=3, open_for=5.0)
    assert reg.get("erp", reloaded) is breaker
    assert breaker.config is reloaded
    assert breaker.state == "open"
    assert breaker.retry_after() == 5.0
    assert breaker.pybreaker.fail_max == 3


async def test_the_failure_predicate_is_handed_to_the_breaker() -> None:
    """is_failure given to get() decides what counts against the backend."""
    reg = registry()
    breaker = reg.get("erp", BreakerConfig(consecutive_failures=1), is_failure=is_transient)

    async def fault() -> None:
        raise BusinessFault("no such order")

    async def down() -> None:
        raise Transient("refused")

    with contextlib.suppress(BusinessFault):
        await breaker.call(fault)
    assert breaker.state == "closed"
    with contextlib.suppress(Transient):
        await breaker.call(down)
    assert breaker.state == "open"


def test_tick_lifts_expired_forcings_on_every_breaker() -> None:
    """The registry's tick() applies every breaker's TTL."""
    clock = FakeClock()
    reg = BreakerRegistry(clock=clock, events=EventBus())
    for name in ("erp", "crm"):
        reg.get(name, BreakerConfig()).force("forced_open", ttl_s=10.0)
    clock.advance(10.0)
    reg.tick()
    assert [b.state for b in reg.all()] == ["closed", "closed"]
