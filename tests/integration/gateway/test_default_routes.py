"""The default configuration's routes, end to end: REST in, SOAP / XML-RPC / Fishbowl out, JSON back."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from sandbox.dataset import build_world
from sandbox.faults import Fault
from sandbox.runner import Sandbox

WORLD = build_world()


async def test_order_from_the_soap_erp(gateway: TestClient) -> None:
    """GET /api/v1/orders/{no} answers the ERP's order with its lines, mapped to clean JSON."""
    order = WORLD.orders[0]
    response = await gateway.get(f"/api/v1/orders/{order.no}")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["no"] == order.no
    assert body["customer_no"] == order.customer_no
    assert body["total"] == format(order.amount, "f")
    assert [line["sku"] for line in body["lines"]] == [line.item_no for line in order.lines]
    assert body["lines"][0]["quantity"] == order.lines[0].quantity


async def test_missing_order_is_404(gateway: TestClient) -> None:
    """An order the ERP does not have answers 404 not_found (NAV's empty Read result)."""
    response = await gateway.get("/api/v1/orders/SO-999999")
    assert response.status == 404
    assert (await response.json())["code"] == "not_found"


async def test_customer_from_the_xmlrpc_crm(gateway: TestClient) -> None:
    """GET /api/v1/customers/{id} answers the Odoo partner, with False → null and many2one → object."""
    customer = next(c for c in WORLD.customers if c.is_company and c.vat is None)
    response = await gateway.get(f"/api/v1/customers/{customer.id}")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["name"] == customer.name
    assert body["number"] == customer.ref
    assert body["vat"] is None
    assert body["address"]["country"]["name"] == customer.country_name
    assert body["updated_at"].endswith("Z")


async def test_missing_customer_is_404(gateway: TestClient) -> None:
    """A partner id Odoo does not have (read returns no rows) answers 404."""
    response = await gateway.get("/api/v1/customers/999999")
    assert response.status == 404


async def test_stock_from_the_fishbowl_wms(gateway: TestClient) -> None:
    """GET /api/v1/products/{sku}/stock answers per-location stock from the Fishbowl TCP WMS."""
    sku = WORLD.items[0].no
    response = await gateway.get(f"/api/v1/products/{sku}/stock")
    assert response.status == 200, await response.text()
    body = await response.json()
    expected = {s.location: s.qty for s in WORLD.stock if s.part_num == sku}
    assert {loc["location"]: loc["on_hand"] for loc in body["locations"]} == expected


async def test_down_backend_is_a_503_problem(gateway: TestClient, sandbox: Sandbox) -> None:
    """With the ERP refusing connections, the order route answers 503 backend_unavailable with Retry-After."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    response = await gateway.get(f"/api/v1/orders/{WORLD.orders[0].no}")
    assert response.status == 503
    assert (await response.json())["code"] == "backend_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
