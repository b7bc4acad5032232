"""Writes while the ERP is down: every one answered 202 is delivered exactly once, even across a
SIGKILL of the gateway.

"Exactly once" is checked against the ERP's own records (``tests/chaos/erp_records.py``): each
order carries a unique ``external_document_no`` marker, so a lost write and a doubled one both
show up as a marker count other than one.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from tests.chaos.answers import describe
from tests.chaos.erp_records import ErpOrder, orders_of_customer
from tests.chaos.load import Reply, fetch
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos

CUSTOMER = "C00150"  # an existing customer with a single order in the seed
WRITES = 10
DELIVERY_WITHIN_S = 30.0  # outbox backoff after failed attempts while down is a few seconds


def order_body(marker: str) -> dict[str, Any]:
    return {
        "customer_no": CUSTOMER,
        "external_document_no": marker,
        "lines": [{"sku": "1000-GR", "quantity": 1}],
    }


async def post_orders_while_down(http: aiohttp.ClientSession, gateway: str) -> dict[str, str]:
    """POST WRITES orders at once; every one must be accepted. Returns marker → operation URL."""
    prefix = f"CHAOS-{uuid.uuid4().hex[:8]}"
    markers = [f"{prefix}-{i:02d}" for i in range(WRITES)]
    replies = await asyncio.gather(
        *(
            fetch(http, gateway, "/api/v1/orders", method="POST", json=order_body(m))
            for m in markers
        )
    )
    assert all(_accepted(r) for r in replies), "writes not accepted:\n  " + describe(
        r for r in replies if not _accepted(r)
    )
    return {
        marker: reply.headers["Location"] for marker, reply in zip(markers, replies, strict=True)
    }


def _accepted(reply: Reply) -> bool:
    return (
        reply.status == 202
        and reply.headers.get("Location", "").startswith("/api/v1/operations/")
        and reply.json().get("href") == reply.headers.get("Location")
    )


async def operation_states(
    http: aiohttp.ClientSession, gateway: str, operations: dict[str, str]
) -> dict[str, dict[str, Any]]:
    replies = await asyncio.gather(*(fetch(http, gateway, href) for href in operations.values()))
    assert all(r.status == 200 for r in replies), describe(r for r in replies if r.status != 200)
    return {marker: r.json() for marker, r in zip(operations, replies, strict=True)}


async def wait_until_delivered(
    http: aiohttp.ClientSession, gateway: str, operations: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Poll every operation until all are ``done``; fail at once on ``dead``, or at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_WITHIN_S
    while True:
        states = await operation_states(http, gateway, operations)
        statuses = {marker: state["status"] for marker, state in states.items()}
        assert "dead" not in statuses.values(), f"a write was dead-lettered: {states}"
        if set(statuses.values()) == {"done"}:
            return states
        assert loop.time() < deadline, f"not delivered within {DELIVERY_WITHIN_S}s: {statuses}"
        await asyncio.sleep(0.2)


async def assert_delivered_exactly_once(
    http: aiohttp.ClientSession,
    stack: ChaosStack,
    before: list[ErpOrder],
    delivered: dict[str, dict[str, Any]],
) -> None:
    """The ERP holds one new order per acknowledged write, and each operation names its own."""
    after = await orders_of_customer(http, stack.sales_order_url, CUSTOMER)
    known = {order.no for order in before}
    new = [order for order in after if order.no not in known]
    assert sorted(o.external_document_no for o in new) == sorted(delivered), (
        f"the ERP's new orders for {CUSTOMER} do not match the acknowledged writes one to one: {new}"
    )
    by_no = {order.no: order for order in after}
    results = {marker: state["result"]["no"] for marker, state in delivered.items()}
    assert len(set(results.values())) == WRITES, f"operations share orders: {results}"
    for marker, no in results.items():
        assert no in by_no and by_no[no].external_document_no == marker, (marker, no, by_no.get(no))


async def test_writes_accepted_while_the_erp_is_down_are_delivered_exactly_once(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """Ten orders POSTed to a down ERP are all answered 202 and, once it is back, each exists in the ERP exactly once."""
    before = await orders_of_customer(http, stack.sales_order_url, CUSTOMER)
    await control.set_fault("erp", "down")

    operations = await post_orders_while_down(http, stack.gateway_url)
    queued = await operation_states(http, stack.gateway_url, operations)
    assert {state["status"] for state in queued.values()} <= {"queued", "delivering"}

    await control.reset("erp")
    delivered = await wait_until_delivered(http, stack.gateway_url, operations)
    await assert_delivered_exactly_once(http, stack, before, delivered)


async def test_writes_acknowledged_before_a_sigkill_are_delivered_exactly_once_by_the_next_gateway(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """Orders answered 202 by a gateway that is then SIGKILLed are delivered exactly once by a new gateway on the same store."""
    before = await orders_of_customer(http, stack.sales_order_url, CUSTOMER)
    await control.set_fault("erp", "down")
    operations = await post_orders_while_down(http, stack.gateway_url)
    # Every 202 was for a stored write: queued and waiting (the breaker, tripped by the failed
    # calls, keeps the worker from claiming them for its open period).
    queued = await operation_states(http, stack.gateway_url, operations)
    assert {state["status"] for state in queued.values()} == {"queued"}, queued

    stack.kill_gateway()
    stack.start_new_gateway()
    await control.reset("erp")

    delivered = await wait_until_delivered(http, stack.gateway_url, operations)
    await assert_delivered_exactly_once(http, stack, before, delivered)
