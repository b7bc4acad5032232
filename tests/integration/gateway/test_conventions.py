"""The API conventions a mobile team builds on, end to end against the sandbox over real sockets."""

from __future__ import annotations

import gzip
from urllib.parse import parse_qs, urlparse

import brotli
from aiohttp.test_utils import TestClient

from sandbox.dataset import build_world
from sandbox.faults import Fault
from sandbox.runner import Sandbox

WORLD = build_world()


async def test_cursor_pagination_walks_every_order_once(gateway: TestClient) -> None:
    """Following `next` links with limit=50 visits every released order exactly once, in order."""
    expected = [o.no for o in WORLD.orders if o.status == "Released"]
    seen: list[str] = []
    url: str | None = "/api/v1/orders?status=Released&limit=50"
    while url:
        response = await gateway.get(url)
        assert response.status == 200, await response.text()
        page = await response.json()
        assert len(page["data"]) <= 50
        seen += [order["no"] for order in page["data"]]
        url = page["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
    assert seen == expected


async def test_offset_backed_listing_pages_stably(gateway: TestClient) -> None:
    """Customers page by offset under the hood; pages neither overlap nor skip, sorted as asked."""
    first = await (await gateway.get("/api/v1/customers?sort=name&limit=7")).json()
    second = await (await gateway.get(first["next"])).json()
    both = await (await gateway.get("/api/v1/customers?sort=name&limit=14")).json()
    assert [c["id"] for c in first["data"] + second["data"]] == [c["id"] for c in both["data"]]
    names = [c["name"] for c in both["data"]]
    assert names == sorted(names)


async def test_limit_bounds_and_forged_cursors_are_400(gateway: TestClient) -> None:
    """limit above the maximum, a cursor from another listing and a garbled cursor are rejected."""
    too_big = await gateway.get("/api/v1/orders?limit=101")
    assert too_big.status == 400
    customers = await (await gateway.get("/api/v1/customers?limit=1")).json()
    cursor = parse_qs(urlparse(customers["next"]).query)["cursor"][0]
    swapped = await gateway.get(f"/api/v1/leads?cursor={cursor}")
    assert swapped.status == 400
    assert (await swapped.json())["errors"][0]["field"] == "query.cursor"
    assert (await gateway.get("/api/v1/orders?cursor=%%%")).status == 400


async def test_sparse_fieldsets(gateway: TestClient) -> None:
    """?fields= trims objects and list items to the named (and dotted) fields; unknown names are 400."""
    one = await (await gateway.get("/api/v1/orders/SO-100001?fields=no,total")).json()
    assert set(one) == {"no", "total"}
    page = await (await gateway.get("/api/v1/customers?limit=3&fields=id,country.name")).json()
    assert all(
        set(c) == {"id", "country"} and set(c["country"] or {"name": 1}) == {"name"}
        for c in page["data"]
    )
    bad = await gateway.get("/api/v1/orders/SO-100001?fields=no,totl")
    assert bad.status == 400
    assert "totl" in (await bad.json())["errors"][0]["message"]


async def test_conditional_get_answers_304(gateway: TestClient) -> None:
    """A GET with the ETag it was given answers 304 with no body; a changed resource answers 200."""
    first = await gateway.get("/api/v1/customers/7")
    etag = first.headers["ETag"]
    again = await gateway.get("/api/v1/customers/7", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    await gateway.patch("/api/v1/customers/7", json={"phone": "+1 555 000 0000"})
    changed = await gateway.get("/api/v1/customers/7", headers={"If-None-Match": etag})
    assert changed.status == 200


async def test_order_etag_is_the_erp_key_and_guards_patch(gateway: TestClient) -> None:
    """If-Match with the current ETag updates; reusing the old one gives 412; no If-Match reads then writes."""
    current = await gateway.get("/api/v1/orders/SO-100003")
    etag = current.headers["ETag"]
    ok = await gateway.patch(
        "/api/v1/orders/SO-100003",
        json={"external_document_no": "PO-1"},
        headers={"If-Match": etag},
    )
    assert ok.status == 200
    assert ok.headers["ETag"] != etag
    stale = await gateway.patch(
        "/api/v1/orders/SO-100003",
        json={"external_document_no": "PO-2"},
        headers={"If-Match": etag},
    )
    assert stale.status == 412
    assert (await stale.json())["code"] == "precondition_failed"
    unguarded = await gateway.patch(
        "/api/v1/orders/SO-100003", json={"external_document_no": "PO-3"}
    )
    assert unguarded.status == 200
    assert (await unguarded.json())["external_document_no"] == "PO-3"


async def test_create_answers_201_with_location(gateway: TestClient) -> None:
    """POST /orders creates in the ERP and answers 201 with Location and the order as GET shows it."""
    response = await gateway.post(
        "/api/v1/orders",
        json={"customer_no": "C00040", "lines": [{"sku": "1000-GR", "quantity": 3}]},
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert response.headers["Location"] == f"/api/v1/orders/{created['no']}"
    fetched = await (await gateway.get(response.headers["Location"])).json()
    assert fetched == created


async def test_invalid_input_lists_each_field(gateway: TestClient, sandbox: Sandbox) -> None:
    """Bad params and bodies answer 400 with one error per field, and never reach the backend."""
    before = sandbox.erp.switch.requests
    response = await gateway.post(
        "/api/v1/orders", json={"customer_no": "nobody", "lines": [{"sku": "x"}]}
    )
    body = await response.json()
    assert response.status == 400
    fields = {error["field"] for error in body["errors"]}
    assert {"body.customer_no", "body.lines.0"} <= fields
    query = await gateway.get("/api/v1/orders?status=Shipped&colour=red")
    assert {e["field"] for e in (await query.json())["errors"]} == {"query.status", "query.colour"}
    assert sandbox.erp.switch.requests == before


async def test_aggregated_order_calls_three_backends_in_one_round_trip(gateway: TestClient) -> None:
    """?include=customer,stock,shipment embeds the CRM customer, WMS stock and shipment."""
    order = WORLD.orders[0]
    response = await gateway.get(f"/api/v1/orders/{order.no}?include=customer,stock,shipment")
    body = await response.json()
    assert response.status == 200
    assert body["customer"]["number"] == order.customer_no
    assert [s["sku"] for s in body["stock"]] == [line.item_no for line in order.lines]
    assert body["shipment"]["order_no"] == order.no
    assert "unavailable" not in body


async def test_partial_failure_marks_the_part_unavailable(
    gateway: TestClient, sandbox: Sandbox
) -> None:
    """With the WMS down, the aggregated order still answers 200, marking stock and shipment unavailable."""
    await sandbox.wms.switch.set(Fault.parse("down"))
    response = await gateway.get("/api/v1/orders/SO-100001?include=customer,stock,shipment")
    body = await response.json()
    assert response.status == 200
    assert body["customer"]["number"] == WORLD.orders[0].customer_no
    assert body["stock"] is None and body["shipment"] is None
    assert body["unavailable"]["stock"]["code"] == "backend_unavailable"


async def test_multi_sku_stock_fans_out(gateway: TestClient) -> None:
    """/stock?sku=A,B answers one entry per SKU in order, marking unknown SKUs instead of failing."""
    a, b = WORLD.items[0].no, WORLD.items[1].no
    body = await (await gateway.get(f"/api/v1/stock?sku={a},9999-ZZ,{b}")).json()
    assert [entry["sku"] for entry in body] == [a, "9999-ZZ", b]
    assert body[1]["error"]["code"] == "not_found"
    assert body[0]["on_hand"] == sum(s.qty for s in WORLD.stock if s.part_num == a)


async def test_compression_by_accept_encoding(gateway: TestClient) -> None:
    """Large answers are brotli- or gzip-compressed as the client prefers, and decode to the same JSON."""
    plain = await (
        await gateway.get("/api/v1/customers?limit=50", headers={"Accept-Encoding": "identity"})
    ).read()
    br = await gateway.get(
        "/api/v1/customers?limit=50", headers={"Accept-Encoding": "br"}, auto_decompress=False
    )
    gz = await gateway.get(
        "/api/v1/customers?limit=50", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert br.headers["Content-Encoding"] == "br"
    assert gz.headers["Content-Encoding"] == "gzip"
    assert brotli.decompress(await br.read()) == plain
    assert gzip.decompress(await gz.read()) == plain
    assert len(await br.read()) < len(plain) / 3


async def test_cache_control_and_no_store_on_writes(gateway: TestClient) -> None:
    """Cached reads say how long they keep; writes say no-store."""
    read = await gateway.get("/api/v1/customers/7")
    assert read.headers["Cache-Control"] == "private, max-age=60"
    write = await gateway.patch("/api/v1/customers/7", json={"zip": "10117"})
    assert write.headers["Cache-Control"] == "no-store"
