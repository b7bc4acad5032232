"""The ERP sandbox over real sockets, driven by zeep (and aiohttp for what zeep will not send).

zeep loads the WSDL from the running server and does all the SOAP work, so these tests prove that
a standard SOAP 1.1 client reads the WSDL, builds requests the server accepts and parses the
replies it sends: protocol fidelity, not the code agreeing with itself. zeep's sync client runs in
a thread because the server runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault as SoapFault
from zeep.exceptions import TransportError
from zeep.transports import Transport

from sandbox.dataset import World, build_world
from sandbox.erp import ErpSandbox
from sandbox.faults import Fault, FaultSwitch

SALES_NS = "urn:microsoft-dynamics-schemas/page/salesorder"
ITEM_NS = "urn:microsoft-dynamics-schemas/page/item"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WORLD = build_world()


@pytest.fixture
async def erp() -> AsyncIterator[ErpSandbox]:
    sandbox = ErpSandbox(WORLD, FaultSwitch("erp"))
    await sandbox.start()
    yield sandbox
    await sandbox.switch.set(Fault())  # release any request a hang still holds
    await sandbox.stop()


def make_client(url: str, timeout: float = 2.0) -> zeep.Client:
    return zeep.Client(url, transport=Transport(timeout=timeout, operation_timeout=timeout))


@pytest.fixture
async def orders(erp: ErpSandbox) -> zeep.Client:
    return await asyncio.to_thread(make_client, erp.wsdl_url("SalesOrder"))


@pytest.fixture
async def items(erp: ErpSandbox) -> zeep.Client:
    return await asyncio.to_thread(make_client, erp.wsdl_url("Item"))


async def call(operation: Callable[..., Any], **params: Any) -> Any:
    return await asyncio.to_thread(operation, **params)


def released_nos(world: World) -> list[str]:
    return sorted(order.no for order in world.orders if order.status == "Released")


async def read_all_pages(orders: zeep.Client, filters: list[dict[str, str]], size: int) -> list:
    found: list = []
    bookmark = None
    while True:
        page = await call(
            orders.service.ReadMultiple, filter=filters, bookmarkKey=bookmark, setSize=size
        )
        if not page:
            return found
        assert len(page) <= size
        found.extend(page)
        bookmark = page[-1].Key


async def post(erp: ErpSandbox, body: bytes, action: str = "", page: str = "SalesOrder"):
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action}
    async with (
        aiohttp.ClientSession() as session,
        session.post(erp.page_url(page), data=body, headers=headers) as reply,
    ):
        return reply.status, reply.headers.get("Content-Type", ""), await reply.read()


def envelope(operation_xml: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{operation_xml}</s:Body></s:Envelope>'
    ).encode()


def fault_of(body: bytes) -> tuple[str, str]:
    fault = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, body
    return fault.findtext("faultcode"), fault.findtext("faultstring")


# --- reads ---------------------------------------------------------------------------------


async def test_read_returns_an_order_with_its_lines(orders: zeep.Client) -> None:
    """Read(No) returns the seeded order with its header fields, typed lines and amounts."""
    expected = WORLD.orders[0]
    order = await call(orders.service.Read, No=expected.no)
    assert (order.No, order.Sell_to_Customer_No) == (expected.no, expected.customer_no)
    assert order.Order_Date == expected.order_date
    assert order.Status == expected.status
    assert order.Amount == expected.amount
    lines = order.SalesLines.Sales_Order_Line
    assert [line.No for line in lines] == [line.item_no for line in expected.lines]
    assert [line.Line_Amount for line in lines] == [line.line_amount for line in expected.lines]
    assert all(line.Key for line in lines)


async def test_read_of_a_missing_order_is_an_empty_result(orders: zeep.Client) -> None:
    """Read of an unknown No answers an empty Read_Result (None in zeep), not a fault."""
    assert await call(orders.service.Read, No="SO-999999") is None


async def test_read_multiple_filters_by_status_and_customer(orders: zeep.Client) -> None:
    """ReadMultiple applies every filter and returns matches in No order."""
    released = await call(
        orders.service.ReadMultiple, filter=[{"Field": "Status", "Criteria": "Released"}], setSize=0
    )
    assert [order.No for order in released] == released_nos(WORLD)
    customer = WORLD.orders[0].customer_no
    both = await call(
        orders.service.ReadMultiple,
        setSize=0,
        filter=[
            {"Field": "Status", "Criteria": "Released"},
            {"Field": "Sell_to_Customer_No", "Criteria": customer},
        ],
    )
    expected = sorted(
        o.no for o in WORLD.orders if o.status == "Released" and o.customer_no == customer
    )
    assert [order.No for order in both] == expected


async def test_bookmark_paging_has_no_gaps_or_duplicates(orders: zeep.Client) -> None:
    """Paging with bookmarkKey = the last Key of each page walks every match exactly once."""
    filters = [{"Field": "Status", "Criteria": "Released"}]
    pages = await read_all_pages(orders, filters, size=7)
    assert [order.No for order in pages] == released_nos(WORLD)


async def test_read_multiple_ranges_on_dates_and_amounts(orders: zeep.Client) -> None:
    """Date and decimal filters compare as dates and numbers on the wire too."""
    found = await call(
        orders.service.ReadMultiple,
        setSize=0,
        filter=[
            {"Field": "Order_Date", "Criteria": "2026-01-10..2026-01-12"},
            {"Field": "Amount", "Criteria": ">=10000"},
        ],
    )
    expected = [
        o.no
        for o in WORLD.orders
        if "2026-01-10" <= o.order_date.isoformat() <= "2026-01-12" and o.amount >= 10000
    ]
    assert expected
    assert [order.No for order in found] == expected


async def test_item_read_and_read_multiple(items: zeep.Client) -> None:
    """The Item page reads one item and filters items with wildcards and booleans."""
    item = await call(items.service.Read, No="1000-BK")
    world_item = next(i for i in WORLD.items if i.no == "1000-BK")
    assert (item.Description, item.Unit_Price) == (world_item.description, world_item.unit_price)
    assert item.Blocked is world_item.blocked
    desks = await call(
        items.service.ReadMultiple, filter=[{"Field": "No", "Criteria": "1000-*"}], setSize=0
    )
    assert sorted(i.No for i in desks) == sorted(
        i.no for i in WORLD.items if i.no.startswith("1000-")
    )
    blocked = await call(
        items.service.ReadMultiple, filter=[{"Field": "Blocked", "Criteria": "Yes"}], setSize=0
    )
    assert sorted(i.No for i in blocked) == sorted(i.no for i in WORLD.items if i.blocked)
    assert await call(items.service.Read, No="NO-SUCH") is None


# --- writes --------------------------------------------------------------------------------


async def test_create_assigns_a_number_and_computes_amounts(orders: zeep.Client) -> None:
    """Create numbers the order from SO-100421, prices the lines, and Read then finds it."""
    item = next(i for i in WORLD.items if not i.blocked)
    created = await call(
        orders.service.Create,
        SalesOrder={
            "Sell_to_Customer_No": "C00002",
            "External_Document_No": "PO-ZEEP",
            "SalesLines": {"Sales_Order_Line": [{"Type": "Item", "No": item.no, "Quantity": 4}]},
        },
    )
    assert created.No == "SO-100421"
    assert created.Sell_to_Customer_Name == next(
        c.name for c in WORLD.customers if c.ref == "C00002"
    )
    assert created.SalesLines.Sales_Order_Line[0].Line_Amount == item.unit_price * 4
    assert created.Amount == item.unit_price * 4
    again = await call(orders.service.Read, No="SO-100421")
    assert (again.Key, again.External_Document_No) == (created.Key, "PO-ZEEP")


async def test_create_with_an_unknown_customer_is_a_client_fault(orders: zeep.Client) -> None:
    """Create for a customer the ERP does not know raises zeep's Fault with NAV's message."""
    with pytest.raises(SoapFault) as caught:
        await call(orders.service.Create, SalesOrder={"Sell_to_Customer_No": "C99999"})
    assert caught.value.code == "soap:Client"
    assert "The Customer does not exist" in caught.value.message
    assert "C99999" in caught.value.message


async def test_update_with_current_key_succeeds_and_changes_the_key(orders: zeep.Client) -> None:
    """Update with the Key just read changes only the sent field and returns a new Key."""
    order = await call(orders.service.Read, No="SO-100010")
    updated = await call(
        orders.service.Update, SalesOrder={"Key": order.Key, "External_Document_No": "PO-NEW"}
    )
    assert updated.External_Document_No == "PO-NEW"
    assert (updated.Status, updated.Amount) == (order.Status, order.Amount)
    assert updated.Key != order.Key


async def test_update_with_a_stale_key_is_a_concurrency_fault(orders: zeep.Client) -> None:
    """A second Update carrying the old Key gets NAV's 'another user has modified' fault."""
    order = await call(orders.service.Read, No="SO-100011")
    await call(orders.service.Update, SalesOrder={"Key": order.Key, "Currency_Code": "EUR"})
    with pytest.raises(SoapFault) as caught:
        await call(orders.service.Update, SalesOrder={"Key": order.Key, "Currency_Code": "GBP"})
    assert caught.value.code == "soap:Client"
    assert "Another user has modified the record" in caught.value.message
    assert (await call(orders.service.Read, No="SO-100011")).Currency_Code == "EUR"


async def test_delete_removes_the_order(orders: zeep.Client) -> None:
    """Delete(Key) answers true and the order is gone."""
    order = await call(orders.service.Read, No="SO-100012")
    assert await call(orders.service.Delete, Key=order.Key) is True
    assert await call(orders.service.Read, No="SO-100012") is None


# --- the wire ------------------------------------------------------------------------------


async def test_wsdl_names_the_real_port(erp: ErpSandbox, orders: zeep.Client) -> None:
    """GET with or without ?wsdl serves the WSDL whose soap:address is this server's port."""
    async with aiohttp.ClientSession() as session:
        for url in (erp.page_url("Item"), erp.wsdl_url("Item")):
            async with session.get(url) as reply:
                assert reply.status == 200
                assert reply.headers["Content-Type"].startswith("text/xml")
                assert f'location="http://127.0.0.1:{erp.port}/WS/CRONUS/Page/Item"' in (
                    await reply.text()
                )
    assert orders.service._binding_options["address"] == erp.page_url("SalesOrder")


async def schema_of(erp: ErpSandbox, page: str) -> etree.XMLSchema:
    async with aiohttp.ClientSession() as session, session.get(erp.wsdl_url(page)) as reply:
        wsdl = etree.fromstring(await reply.read())
    return etree.XMLSchema(wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema"))


@pytest.mark.parametrize(
    ("page", "operation", "params"),
    [
        ("SalesOrder", "Read", {"No": "SO-100001"}),
        ("SalesOrder", "Read", {"No": "SO-0"}),
        (
            "SalesOrder",
            "ReadMultiple",
            {"filter": [{"Field": "No", "Criteria": "*"}], "setSize": 5},
        ),
        (
            "SalesOrder",
            "ReadMultiple",
            {"filter": [{"Field": "No", "Criteria": "X"}], "setSize": 5},
        ),
        (
            "SalesOrder",
            "Create",
            {
                "SalesOrder": {
                    "Sell_to_Customer_No": "C00003",
                    "SalesLines": {"Sales_Order_Line": [{"No": "1000-BK", "Quantity": 1}]},
                }
            },
        ),
        ("Item", "Read", {"No": "1000-BK"}),
        ("Item", "ReadMultiple", {"filter": [{"Field": "No", "Criteria": "1*"}], "setSize": 0}),
    ],
)
async def test_replies_validate_against_the_wsdl_schema(
    erp: ErpSandbox, page: str, operation: str, params: dict[str, Any]
) -> None:
    """Replies, full or empty, are valid instances of the schema in the WSDL the server serves."""
    schema = await schema_of(erp, page)
    client = await asyncio.to_thread(make_client, erp.wsdl_url(page))
    message = client.create_message(client.service, operation, **params)
    namespace = SALES_NS if page == "SalesOrder" else ITEM_NS
    status, _, body = await post(erp, etree.tostring(message), f'"{namespace}:{operation}"', page)
    assert status == 200, body
    result = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
    assert result.tag == f"{{{namespace}}}{operation}_Result"
    schema.assertValid(result)


async def test_malformed_xml_is_a_client_fault(erp: ErpSandbox) -> None:
    """A body that is not XML gets HTTP 500 with a soap:Client fault."""
    status, content_type, body = await post(erp, b"<s:Envelope xmlns:s=")
    assert (status, content_type) == (500, "text/xml; charset=utf-8")
    assert fault_of(body)[0] == "soap:Client"


async def test_dtds_and_entities_are_refused(erp: ErpSandbox) -> None:
    """A request carrying a DTD is refused as a client fault and its entity never expands."""
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "EXPANDED">]>' + envelope(
        f'<Read xmlns="{SALES_NS}"><No>&x;</No></Read>'
    )
    status, _, reply = await post(erp, body)
    assert status == 500
    code, message = fault_of(reply)
    assert code == "soap:Client"
    assert "EXPANDED" not in message


async def test_unknown_operation_is_a_client_fault(erp: ErpSandbox) -> None:
    """An operation the page lacks (Create on Item) is a soap:Client fault with NAV's detail."""
    status, _, reply = await post(erp, envelope(f'<Create xmlns="{ITEM_NS}"/>'), page="Item")
    assert status == 500
    assert fault_of(reply)[0] == "soap:Client"
    detail = etree.fromstring(reply).find(".//detail/{*}string")
    assert detail is not None
    assert detail.tag == "{http://schemas.microsoft.com/2003/10/Serialization/}string"


async def test_soapaction_must_agree_with_the_body(erp: ErpSandbox) -> None:
    """A SOAPAction naming another operation than the body's is refused; unquoted is accepted."""
    read = envelope(f'<Read xmlns="{SALES_NS}"><No>SO-100001</No></Read>')
    status, _, _ = await post(erp, read, f"{SALES_NS}:Read")
    assert status == 200
    status, _, reply = await post(erp, read, f'"{SALES_NS}:Delete"')
    assert status == 500
    assert "ContractFilter mismatch" in fault_of(reply)[1]


async def test_unqualified_parameters_count_as_missing(erp: ErpSandbox) -> None:
    """Like NAV, a No element outside the page namespace is a null parameter."""
    status, _, reply = await post(
        erp, envelope(f'<Read xmlns="{SALES_NS}"><No xmlns="">SO-1</No></Read>')
    )
    assert status == 500
    assert fault_of(reply)[1] == "Parameter No in method Read in service SalesOrder is null!"


# --- fault modes ---------------------------------------------------------------------------


async def test_down_refuses_connections_and_reset_restores(
    erp: ErpSandbox, orders: zeep.Client
) -> None:
    """In down mode the client gets connection refused; after reset it is served again."""
    await erp.switch.set(Fault.parse("down"))
    with pytest.raises(requests.exceptions.ConnectionError):
        await call(orders.service.Read, No="SO-100001")
    await erp.switch.set(Fault.parse("reset"))
    assert (await call(orders.service.Read, No="SO-100001")).No == "SO-100001"


async def test_hang_makes_the_client_time_out(erp: ErpSandbox) -> None:
    """In hang mode a call never gets an answer, so a client with a 0.5 s timeout gives up."""
    client = await asyncio.to_thread(make_client, erp.wsdl_url("SalesOrder"), 0.5)
    await erp.switch.set(Fault.parse("hang"))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        await call(client.service.Read, No="SO-100001")
    assert time.monotonic() - started >= 0.5
    await erp.switch.set(Fault.parse("reset"))
    assert (await call(client.service.Read, No="SO-100001")).No == "SO-100001"


async def test_hang_also_hangs_the_wsdl(erp: ErpSandbox) -> None:
    """A hung ERP does not even serve its WSDL."""
    await erp.switch.set(Fault.parse("hang"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            async with session.get(
                erp.wsdl_url("Item"), timeout=aiohttp.ClientTimeout(total=0.3, ceil_threshold=0)
            ):
                pass


async def test_stop_does_not_wait_for_hung_requests() -> None:
    """Stopping a hung ERP drops the requests it holds at once instead of waiting on them."""
    sandbox = ErpSandbox(WORLD, FaultSwitch("erp"))
    await sandbox.start()
    await sandbox.switch.set(Fault.parse("hang"))
    _, writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
    writer.write(b"GET /WS/CRONUS/Page/Item HTTP/1.1\r\nHost: erp\r\n\r\n")
    await writer.drain()
    async with asyncio.timeout(2):  # the switch counts requests but offers nothing to await
        while sandbox.switch.requests == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    started = time.monotonic()
    await asyncio.wait_for(sandbox.stop(), timeout=2)  # a bound, so a regression cannot hang
    assert time.monotonic() - started < 0.5, "stop waited on the hung request"
    writer.close()


async def test_slow_delays_every_answer(erp: ErpSandbox, orders: zeep.Client) -> None:
    """slow:300 makes a call take at least 0.3 s and still answer correctly."""
    await erp.switch.set(Fault.parse("slow:300"))
    started = time.monotonic()
    order = await call(orders.service.Read, No="SO-100001")
    assert time.monotonic() - started >= 0.3
    assert order.No == "SO-100001"


async def test_error_rate_one_is_a_503_and_zero_is_normal(
    erp: ErpSandbox, orders: zeep.Client
) -> None:
    """error_rate:1 answers IIS's 503 HTML page; error_rate:0 serves normally."""
    await erp.switch.set(Fault.parse("error_rate:1"))
    with pytest.raises(TransportError) as caught:
        await call(orders.service.Read, No="SO-100001")
    assert caught.value.status_code == 503
    assert b"Service Unavailable" in caught.value.content
    await erp.switch.set(Fault.parse("error_rate:0"))
    assert (await call(orders.service.Read, No="SO-100001")).No == "SO-100001"


async def test_garbage_is_unparseable_and_reset_restores(
    erp: ErpSandbox, orders: zeep.Client
) -> None:
    """garbage answers 200 text/xml that zeep cannot parse; reset brings back good replies."""
    await erp.switch.set(Fault.parse("garbage"))
    with pytest.raises(TransportError, match="invalid XML") as caught:
        await call(orders.service.Read, No="SO-100001")
    assert caught.value.status_code == 200
    await erp.switch.set(Fault.parse("reset"))
    assert (await call(orders.service.Read, No="SO-100001")).No == "SO-100001"
