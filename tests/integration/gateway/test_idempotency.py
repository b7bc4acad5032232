"""Idempotency-Key on writes, against the real ERP: a retried create is applied exactly once."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from sandbox.faults import Fault
from sandbox.runner import Sandbox

ORDER = {"customer_no": "C00040", "lines": [{"sku": "1000-GR", "quantity": 2}]}


def erp_orders(sandbox: Sandbox) -> int:
    return len(sandbox.erp.store.orders)


async def test_fifty_parallel_posts_with_one_key_create_one_order(
    gateway: TestClient, sandbox: Sandbox
) -> None:
    """50 concurrent POSTs sharing an Idempotency-Key make exactly one order in the ERP."""
    before = erp_orders(sandbox)
    headers = {"Idempotency-Key": "order-7f3a-0001"}
    answers = await asyncio.gather(
        *(gateway.post("/api/v1/orders", json=ORDER, headers=headers) for _ in range(50))
    )
    statuses = sorted(a.status for a in answers)
    assert erp_orders(sandbox) == before + 1
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    created = {(await a.json())["no"] for a in answers if a.status == 201}
    assert len(created) == 1


async def test_a_retry_replays_the_first_answer(gateway: TestClient, sandbox: Sandbox) -> None:
    """The same key and body again returns the stored answer (status, headers, body) without a second order."""
    headers = {"Idempotency-Key": "order-7f3a-0002"}
    first = await gateway.post("/api/v1/orders", json=ORDER, headers=headers)
    count = erp_orders(sandbox)
    again = await gateway.post("/api/v1/orders", json=ORDER, headers=headers)
    assert again.status == first.status == 201
    assert await again.read() == await first.read()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert erp_orders(sandbox) == count


async def test_the_same_key_with_a_different_body_is_refused(gateway: TestClient) -> None:
    """Reusing a key for a different request answers 422 idempotency_key_reused."""
    headers = {"Idempotency-Key": "order-7f3a-0003"}
    assert (await gateway.post("/api/v1/orders", json=ORDER, headers=headers)).status == 201
    other = {**ORDER, "external_document_no": "PO-DIFFERENT"}
    reused = await gateway.post("/api/v1/orders", json=other, headers=headers)
    assert reused.status == 422
    assert (await reused.json())["code"] == "idempotency_key_reused"


async def test_a_failed_attempt_frees_the_key(gateway: TestClient, sandbox: Sandbox) -> None:
    """A 5xx is not final: after the CRM recovers, the same key creates the customer once."""
    headers = {"Idempotency-Key": "customer-7f3a-0004"}
    customer = {"name": "Retry Ltd", "email": "ops@retry.example"}
    await sandbox.crm.switch.set(Fault.parse("error_rate:1"))
    failed = await gateway.post("/api/v1/customers", json=customer, headers=headers)
    assert failed.status >= 500
    await sandbox.crm.switch.set(Fault.parse("reset"))
    ok = await gateway.post("/api/v1/customers", json=customer, headers=headers)
    assert ok.status == 201
    again = await gateway.post("/api/v1/customers", json=customer, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == (await ok.json())["id"]
    found = await (await gateway.get("/api/v1/customers", params={"q": "Retry Ltd"})).json()
    assert len(found["data"]) == 1


async def test_keys_of_different_routes_do_not_collide(gateway: TestClient) -> None:
    """One key used on two routes is two independent operations."""
    headers = {"Idempotency-Key": "shared-key-0005"}
    order = await gateway.post("/api/v1/orders", json=ORDER, headers=headers)
    customer = await gateway.post("/api/v1/customers", json={"name": "Keyed Co"}, headers=headers)
    assert (order.status, customer.status) == (201, 201)
