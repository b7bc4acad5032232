"""SoapAdapter against the ERP sandbox over real sockets: NAV page services, faults, limits.

The adapter is configured as ``config/gateway.yaml`` declares the ERP (the multi-service form,
endpoint ``<sandbox>/WS/CRONUS/Page``), with a 0.5 s connect and 1.5 s read timeout. A tiny
aiohttp app streaming 100 MB of zeros checks the reply cap.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.errors import (
    BackendFault,
    BackendTimeout,
    BackendUnavailable,
    Conflict,
    ConnectFailed,
    NotFound,
    ProtocolError,
)
from adapters.http import AiohttpTransport
from sandbox.dataset import World, build_world
from sandbox.erp import ErpSandbox
from sandbox.faults import Fault, FaultSwitch

CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"
SERVICES = {"SalesOrder": "wsdl/nav-salesorder.wsdl", "Item": "wsdl/nav-item.wsdl"}
WORLD = build_world()
MiB = 1024 * 1024
READ_TIMEOUT = 1.5


def make_adapter(endpoint: str, **options: Any) -> SoapAdapter:
    context = AdapterContext(
        backend="erp",
        endpoint=endpoint,
        connect_timeout=0.5,
        read_timeout=READ_TIMEOUT,
        base_dir=str(CONFIG_DIR),
    )
    return SoapAdapter(context, SoapOptions(**({"services": SERVICES} | options)))


@pytest.fixture
async def sandbox() -> AsyncIterator[ErpSandbox]:
    erp = ErpSandbox(WORLD, FaultSwitch("erp"), port=0)
    await erp.start()
    yield erp
    await erp.switch.set(Fault())  # release any request a hang still holds
    await erp.stop()


@pytest.fixture
async def erp(sandbox: ErpSandbox) -> AsyncIterator[SoapAdapter]:
    adapter = make_adapter(sandbox.url + "/WS/CRONUS/Page")
    await adapter.start()
    yield adapter
    await adapter.close()


def released_nos(world: World) -> list[str]:
    return sorted(order.no for order in world.orders if order.status == "Released")


# -- reads ----------------------------------------------------------------------------------------


async def test_read_returns_the_order_as_plain_data(erp: SoapAdapter) -> None:
    """SalesOrder.Read returns the seeded order as a dict with typed fields and its lines."""
    expected = WORLD.orders[0]
    order = await erp.call("SalesOrder.Read", {"No": expected.no})
    assert type(order) is dict
    assert (order["No"], order["Sell_to_Customer_No"]) == (expected.no, expected.customer_no)
    assert (order["Order_Date"], order["Amount"]) == (expected.order_date, expected.amount)
    lines = order["SalesLines"]["Sales_Order_Line"]
    assert [line["No"] for line in lines] == [line.item_no for line in expected.lines]


async def test_read_of_a_missing_order_is_none(erp: SoapAdapter) -> None:
    """A Read of an unknown No is None, not an error."""
    assert await erp.call("SalesOrder.Read", {"No": "SO-999999"}) is None


async def test_read_multiple_pages_with_bookmark_key(erp: SoapAdapter) -> None:
    """Filtered ReadMultiple paged by bookmarkKey = last Key walks every match exactly once."""
    released = [{"Field": "Status", "Criteria": "Released"}]
    found: list[str] = []
    bookmark = None
    pages = 0
    while True:
        params = {"filter": released, "bookmarkKey": bookmark, "setSize": 25}
        page = await erp.call("SalesOrder.ReadMultiple", params)
        assert isinstance(page, list)
        if not page:
            break
        assert len(page) <= 25
        found += [order["No"] for order in page]
        bookmark = page[-1]["Key"]
        pages += 1
    assert pages > 1
    assert found == released_nos(WORLD)


async def test_read_multiple_without_a_match_is_an_empty_list(erp: SoapAdapter) -> None:
    """No match is []."""
    params = {"filter": [{"Field": "No", "Criteria": "ZZ-*"}], "setSize": 10}
    assert await erp.call("SalesOrder.ReadMultiple", params) == []


async def test_item_page_reads(erp: SoapAdapter) -> None:
    """The Item service is reached at endpoint/Item, by name and by filter."""
    item = WORLD.items[0]
    assert (await erp.call("Item.Read", {"No": item.no}))["No"] == item.no
    page = await erp.call(
        "Item.ReadMultiple", {"filter": [{"Field": "No", "Criteria": item.no}], "setSize": 5}
    )
    assert [found["No"] for found in page] == [item.no]


# -- writes ---------------------------------------------------------------------------------------


async def test_create_then_update_with_the_current_key(erp: SoapAdapter) -> None:
    """Create numbers a new order; Update with its Key changes the field and the Key."""
    customer = WORLD.orders[0].customer_no
    item = WORLD.items[0].no
    order = {
        "Sell_to_Customer_No": customer,
        "External_Document_No": "PO-VENEER",
        "SalesLines": {"Sales_Order_Line": [{"No": item, "Quantity": 3}]},
    }
    created = await erp.call("SalesOrder.Create", {"SalesOrder": order})
    assert created["No"]
    assert created["SalesLines"]["Sales_Order_Line"][0]["No"] == item
    change = {"Key": created["Key"], "External_Document_No": "PO-CHANGED"}
    updated = await erp.call("SalesOrder.Update", {"SalesOrder": change})
    assert updated["External_Document_No"] == "PO-CHANGED"
    assert updated["Key"] != created["Key"]
    again = await erp.call("SalesOrder.Read", {"No": created["No"]})
    assert again["External_Document_No"] == "PO-CHANGED"


async def test_update_with_a_stale_key_is_a_conflict(erp: SoapAdapter) -> None:
    """The second Update carrying the first Key gets NAV's concurrency fault: Conflict."""
    order = await erp.call("SalesOrder.Read", {"No": WORLD.orders[1].no})
    await erp.call(
        "SalesOrder.Update", {"SalesOrder": {"Key": order["Key"], "Currency_Code": "EUR"}}
    )
    with pytest.raises(Conflict) as info:
        await erp.call(
            "SalesOrder.Update", {"SalesOrder": {"Key": order["Key"], "Currency_Code": "GBP"}}
        )
    assert info.value.code == "soap:Client"
    assert info.value.operation == "SalesOrder.Update"
    assert not info.value.transient


async def test_create_for_an_unknown_customer_is_not_found(erp: SoapAdapter) -> None:
    """'The Customer does not exist' is NotFound, a permanent BackendFault."""
    with pytest.raises(NotFound):
        await erp.call("SalesOrder.Create", {"SalesOrder": {"Sell_to_Customer_No": "C99999"}})


async def test_client_fault_without_a_rule_is_a_backend_fault(erp: SoapAdapter) -> None:
    """A Create without a customer is NAV's 'must have a value' client fault: BackendFault."""
    with pytest.raises(BackendFault) as info:
        await erp.call("SalesOrder.Create", {"SalesOrder": {"External_Document_No": "PO-X"}})
    assert type(info.value) is BackendFault
    assert "must have a value" in info.value.message


async def test_delete_answers_true(erp: SoapAdapter) -> None:
    """Delete(Key) unwraps to True and the order is gone."""
    order = await erp.call("SalesOrder.Read", {"No": WORLD.orders[2].no})
    assert await erp.call("SalesOrder.Delete", {"Key": order["Key"]}) is True
    assert await erp.call("SalesOrder.Read", {"No": WORLD.orders[2].no}) is None


# -- fault modes ----------------------------------------------------------------------------------


async def test_start_needs_no_backend_and_down_is_connect_failed(sandbox: ErpSandbox) -> None:
    """The adapter starts while the ERP is down; calls fail with ConnectFailed, then recover."""
    await sandbox.switch.set(Fault.parse("down"))
    adapter = make_adapter(sandbox.url + "/WS/CRONUS/Page")
    try:
        await adapter.start()
        with pytest.raises(ConnectFailed) as info:
            await adapter.call("SalesOrder.Read", {"No": "SO-100001"})
        assert info.value.operation == "SalesOrder.Read"
        assert not (await adapter.health()).ok
        await sandbox.switch.set(Fault.parse("reset"))
        assert (await adapter.call("SalesOrder.Read", {"No": "SO-100001"}))["No"] == "SO-100001"
        assert (await adapter.health()).ok
    finally:
        await adapter.close()


async def test_hang_times_out_at_the_read_timeout(sandbox: ErpSandbox, erp: SoapAdapter) -> None:
    """A hung ERP gives BackendTimeout at the 1.5 s read timeout, not later than 1.9 s."""
    await sandbox.switch.set(Fault.parse("hang"))
    started = time.monotonic()
    with pytest.raises(BackendTimeout) as info:
        await erp.call("SalesOrder.Read", {"No": "SO-100001"})
    elapsed = time.monotonic() - started
    assert READ_TIMEOUT <= elapsed < 1.9
    assert info.value.transient
    assert info.value.operation == "SalesOrder.Read"


async def test_error_rate_one_is_backend_unavailable(sandbox: ErpSandbox, erp: SoapAdapter) -> None:
    """error_rate:1 makes every call IIS's 503 page: transient BackendUnavailable."""
    await sandbox.switch.set(Fault.parse("error_rate:1"))
    with pytest.raises(BackendUnavailable) as info:
        await erp.call("SalesOrder.Read", {"No": "SO-100001"})
    assert info.value.code == 503


async def test_garbage_is_a_protocol_error(sandbox: ErpSandbox, erp: SoapAdapter) -> None:
    """A 200 whose XML stops halfway is ProtocolError."""
    await sandbox.switch.set(Fault.parse("garbage"))
    with pytest.raises(ProtocolError, match="not well-formed"):
        await erp.call("SalesOrder.Read", {"No": "SO-100001"})


def connector_acquired(adapter: SoapAdapter) -> int:
    transport = adapter._transport
    assert isinstance(transport, AiohttpTransport)
    session = transport._session
    assert session is not None
    return len(session.connector._acquired)  # type: ignore[union-attr]


async def test_cancelled_call_leaks_no_connection(sandbox: ErpSandbox, erp: SoapAdapter) -> None:
    """Cancelling a call stuck on a hung ERP propagates and gives its connection back."""
    await erp.call("SalesOrder.Read", {"No": "SO-100001"})  # opens the session
    await sandbox.switch.set(Fault.parse("hang"))
    task = asyncio.create_task(erp.call("SalesOrder.Read", {"No": "SO-100001"}))
    async with asyncio.timeout(2):
        while connector_acquired(erp) == 0:  # noqa: ASYNC110  # nothing to await on
            await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert connector_acquired(erp) == 0
    await sandbox.switch.set(Fault.parse("reset"))
    assert (await erp.call("SalesOrder.Read", {"No": "SO-100001"}))["No"] == "SO-100001"


# -- a hostile server: a 100 MB reply -------------------------------------------------------------


def _zeros() -> Iterator[bytes]:
    yield b'<?xml version="1.0"?><Envelope><Body>'
    block = b"0" * MiB
    for _ in range(100):
        yield block


async def _stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/xml; charset=utf-8"})
    await response.prepare(request)
    try:
        for chunk in _zeros():
            await response.write(chunk)
    except ConnectionError:
        pass  # the client stopped reading at its cap and closed, as it should
    return response


@pytest.fixture
async def huge_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/WS/CRONUS/Page/{service}", _stream)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/WS/CRONUS/Page"
    await runner.cleanup()


async def test_a_100_mb_reply_is_refused_in_bounded_memory(huge_server: str) -> None:
    """A 100 MB reply is ProtocolError at the 16 MiB cap; peak RSS grows by less than 50 MB."""
    adapter = make_adapter(huge_server)
    await adapter.start()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with pytest.raises(ProtocolError, match="cap"):
            await adapter.call("SalesOrder.Read", {"No": "SO-1"})
    finally:
        await adapter.close()
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 50 * MiB
