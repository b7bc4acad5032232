"""Writes while the ERP is down: stored durably, answered 202, delivered once it is back."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from sandbox.faults import Fault
from sandbox.runner import Sandbox

ORDER = {"customer_no": "C00040", "lines": [{"sku": "1000-GR", "quantity": 2}]}


async def wait_for_status(
    gateway: TestClient, href: str, wanted: str, within: float = 8.0
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        body: dict[str, Any] = await (await gateway.get(href)).json()
        if body["status"] == wanted or loop.time() > end:
            return body
        await asyncio.sleep(0.05)


async def test_a_write_to_a_down_erp_is_queued_and_delivered_once(
    gateway: TestClient, sandbox: Sandbox
) -> None:
    """POST while the ERP refuses connections answers 202; after recovery the order exists exactly once."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    before = len(sandbox.erp.store.orders)
    response = await gateway.post("/api/v1/orders", json=ORDER)
    assert response.status == 202, await response.text()
    accepted = await response.json()
    assert (
        response.headers["Location"] == accepted["href"] == f"/api/v1/operations/{accepted['id']}"
    )
    queued = await (await gateway.get(accepted["href"])).json()
    assert queued["status"] in {"queued", "delivering"}
    assert queued["operation"] == "POST /api/v1/orders"

    await sandbox.erp.switch.set(Fault.parse("reset"))
    done = await wait_for_status(gateway, accepted["href"], "done")
    assert done["status"] == "done"
    assert done["result"]["customer_no"] == "C00040"
    assert len(sandbox.erp.store.orders) == before + 1
    assert done["result"]["no"] in sandbox.erp.store.orders


async def test_a_keyed_retry_of_a_queued_write_does_not_queue_it_again(
    gateway: TestClient, sandbox: Sandbox
) -> None:
    """Retrying a 202'd POST with its Idempotency-Key replays the same operation instead of adding one."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    headers = {"Idempotency-Key": "queued-order-0001"}
    first = await (await gateway.post("/api/v1/orders", json=ORDER, headers=headers)).json()
    again = await gateway.post("/api/v1/orders", json=ORDER, headers=headers)
    assert again.status == 202
    assert (await again.json())["id"] == first["id"]
    before = len(sandbox.erp.store.orders)
    await sandbox.erp.switch.set(Fault.parse("reset"))
    await wait_for_status(gateway, first["href"], "done")
    assert len(sandbox.erp.store.orders) == before + 1


async def test_a_write_the_erp_refuses_for_good_is_dead_lettered(
    gateway: TestClient, sandbox: Sandbox
) -> None:
    """A queued order for an unknown customer is refused on delivery and ends dead, without the ERP's text."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    accepted = await (
        await gateway.post("/api/v1/orders", json={**ORDER, "customer_no": "C99999"})
    ).json()
    await sandbox.erp.switch.set(Fault.parse("reset"))
    dead = await wait_for_status(gateway, accepted["href"], "dead")
    assert dead["status"] == "dead"
    assert dead["error"]["code"] == "delivery_failed"
    assert "Customer" not in str(dead)


async def test_unknown_operation_is_404(gateway: TestClient) -> None:
    """An operation id that was never issued answers 404 not_found."""
    response = await gateway.get("/api/v1/operations/0123456789abcdef")
    assert response.status == 404
    assert (await response.json())["code"] == "not_found"


async def test_timeouts_are_not_queued(gateway: TestClient, sandbox: Sandbox) -> None:
    """A write that timed out may have been applied, so it is answered 504, not queued."""
    await sandbox.erp.switch.set(Fault.parse("hang"))
    response = await gateway.post("/api/v1/orders", json=ORDER)
    await sandbox.erp.switch.set(Fault.parse("reset"))
    assert response.status == 504
