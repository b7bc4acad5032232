"""Envelopes the SOAP adapter sends to the NAV page services, and the replies it reads back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from adapters.erp import SoapAdapter
from adapters.errors import InvalidRequest

from .conftest import ENDPOINT, SALES_NS, SOAP_ENV, Wire, envelope

ORDER = (
    "<SalesOrder><Key>44;JAAAAACLAQAAAAJ7;4432905;</Key><No>SO-100001</No>"
    "<Sell_to_Customer_No>C00040</Sell_to_Customer_No><Order_Date>2026-01-05</Order_Date>"
    "<Status>Released</Status><Amount>62849.22</Amount>"
    "<SalesLines><Sales_Order_Line><Line_No>10000</Line_No><Quantity>28</Quantity>"
    "</Sales_Order_Line></SalesLines></SalesOrder>"
)


def sent_body(wire: Wire) -> etree._Element:
    """The operation element of the last request, after checking it is a SOAP 1.1 envelope."""
    root = etree.fromstring(wire.sent[2])
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    (operation,) = root.find(f"{{{SOAP_ENV}}}Body")
    return operation


def text(element: etree._Element, path: str) -> str | None:
    return element.findtext(path, namespaces={"n": SALES_NS})


async def test_read_request_has_the_soap_action_content_type_and_namespace(
    erp: SoapAdapter, wire: Wire
) -> None:
    """Read posts a SOAP 1.1 envelope to endpoint/SalesOrder with NAV's SOAPAction and namespace."""
    wire.reply(envelope(f'<Read_Result xmlns="{SALES_NS}">{ORDER}</Read_Result>'))
    await erp.call("SalesOrder.Read", {"No": "SO-100001"})
    method, url, _, headers = wire.sent
    assert (method, url) == ("POST", f"{ENDPOINT}/SalesOrder")
    assert headers["SOAPAction"] == f'"{SALES_NS}:Read"'
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    operation = sent_body(wire)
    assert operation.tag == f"{{{SALES_NS}}}Read"
    assert text(operation, "n:No") == "SO-100001"


async def test_read_multiple_request_carries_filters_bookmark_and_set_size(
    erp: SoapAdapter, wire: Wire
) -> None:
    """ReadMultiple renders each filter as a qualified filter element, in WSDL order."""
    wire.reply(envelope(f'<ReadMultiple_Result xmlns="{SALES_NS}"/>'))
    params = {
        "filter": [
            {"Field": "Status", "Criteria": "Released"},
            {"Field": "Sell_to_Customer_No", "Criteria": "C0004*"},
        ],
        "bookmarkKey": "44;JAAAAACLAQAAAAJ7;4432905;",
        "setSize": 20,
    }
    await erp.call("SalesOrder.ReadMultiple", params)
    operation = sent_body(wire)
    assert wire.sent[3]["SOAPAction"] == f'"{SALES_NS}:ReadMultiple"'
    assert [etree.QName(child).localname for child in operation] == [
        "filter",
        "filter",
        "bookmarkKey",
        "setSize",
    ]
    filters = operation.findall("n:filter", namespaces={"n": SALES_NS})
    assert [(text(f, "n:Field"), text(f, "n:Criteria")) for f in filters] == [
        ("Status", "Released"),
        ("Sell_to_Customer_No", "C0004*"),
    ]
    assert text(operation, "n:setSize") == "20"


async def test_create_request_renders_the_order_and_its_lines(erp: SoapAdapter, wire: Wire) -> None:
    """Create sends the SalesOrder with nested lines, decimals and dates in XSD form."""
    wire.reply(envelope(f'<Create_Result xmlns="{SALES_NS}">{ORDER}</Create_Result>'))
    order = {
        "Sell_to_Customer_No": "C00040",
        "Order_Date": dt.date(2026, 1, 5),
        "SalesLines": {"Sales_Order_Line": [{"No": "1000-OK", "Quantity": Decimal("2.5")}]},
    }
    await erp.call("SalesOrder.Create", {"SalesOrder": order})
    operation = sent_body(wire)
    assert wire.sent[3]["SOAPAction"] == f'"{SALES_NS}:Create"'
    assert text(operation, "n:SalesOrder/n:Order_Date") == "2026-01-05"
    line = "n:SalesOrder/n:SalesLines/n:Sales_Order_Line"
    assert text(operation, f"{line}/n:Quantity") == "2.5"
    assert text(operation, "n:SalesOrder/n:Key") is None  # unset optional fields are left out


async def test_update_request_carries_the_concurrency_key(erp: SoapAdapter, wire: Wire) -> None:
    """Update sends the Key it was given, the token NAV checks for concurrent changes."""
    wire.reply(envelope(f'<Update_Result xmlns="{SALES_NS}">{ORDER}</Update_Result>'))
    order = {"Key": "44;JAAAAACLAQAAAAJ7;4432905;", "No": "SO-100001", "Status": "Open"}
    result = await erp.call("SalesOrder.Update", {"SalesOrder": order})
    operation = sent_body(wire)
    assert wire.sent[3]["SOAPAction"] == f'"{SALES_NS}:Update"'
    assert text(operation, "n:SalesOrder/n:Key") == "44;JAAAAACLAQAAAAJ7;4432905;"
    assert result["No"] == "SO-100001"


async def test_read_returns_the_order_as_plain_data(erp: SoapAdapter, wire: Wire) -> None:
    """Read unwraps Read_Result to a plain dict with typed scalars, nested lists kept as in WSDL."""
    wire.reply(envelope(f'<Read_Result xmlns="{SALES_NS}">{ORDER}</Read_Result>'))
    order = await erp.call("SalesOrder.Read", {"No": "SO-100001"})
    assert type(order) is dict
    assert order["No"] == "SO-100001"
    assert order["Order_Date"] == dt.date(2026, 1, 5)
    assert order["Amount"] == Decimal("62849.22")
    assert order["SalesLines"] == {
        "Sales_Order_Line": [
            {
                "Key": None,
                "Line_No": 10000,
                "Type": None,
                "No": None,
                "Description": None,
                "Quantity": Decimal("28"),
                "Unit_Price": None,
                "Line_Amount": None,
            }
        ]
    }


async def test_empty_read_result_is_none(erp: SoapAdapter, wire: Wire) -> None:
    """NAV answers a Read of a missing record with an empty Read_Result: that is None."""
    wire.reply(envelope(f'<Read_Result xmlns="{SALES_NS}"/>'))
    assert await erp.call("SalesOrder.Read", {"No": "SO-999999"}) is None


async def test_read_multiple_unwraps_to_a_list(erp: SoapAdapter, wire: Wire) -> None:
    """ReadMultiple_Result/ReadMultiple_Result/SalesOrder* becomes a list of order dicts."""
    second = ORDER.replace("SO-100001", "SO-100002")
    wire.reply(
        envelope(
            f'<ReadMultiple_Result xmlns="{SALES_NS}"><ReadMultiple_Result>{ORDER}{second}'
            "</ReadMultiple_Result></ReadMultiple_Result>"
        )
    )
    orders = await erp.call("SalesOrder.ReadMultiple", {"setSize": 2} | _any_filter())
    assert [order["No"] for order in orders] == ["SO-100001", "SO-100002"]


async def test_read_multiple_with_no_match_is_an_empty_list(erp: SoapAdapter, wire: Wire) -> None:
    """An empty ReadMultiple_Result is [], never None, so callers can always iterate."""
    wire.reply(envelope(f'<ReadMultiple_Result xmlns="{SALES_NS}"/>'))
    assert await erp.call("SalesOrder.ReadMultiple", {"setSize": 5} | _any_filter()) == []


async def test_delete_result_is_the_boolean(erp: SoapAdapter, wire: Wire) -> None:
    """Delete_Result/Delete_Result unwraps to a bool."""
    wire.reply(
        envelope(
            f'<Delete_Result xmlns="{SALES_NS}"><Delete_Result>true</Delete_Result></Delete_Result>'
        )
    )
    assert await erp.call("SalesOrder.Delete", {"Key": "44;x;1;"}) is True


async def test_unknown_parameter_is_an_invalid_request_naming_it(
    erp: SoapAdapter, wire: Wire
) -> None:
    """A param the operation does not have fails before sending, naming the param."""
    with pytest.raises(InvalidRequest, match=r"SalesOrder\.Read has no parameter 'Number'") as info:
        await erp.call("SalesOrder.Read", {"Number": "SO-1"})
    assert info.value.operation == "SalesOrder.Read"
    assert wire.transport.requests == []


async def test_missing_required_parameter_is_an_invalid_request(
    erp: SoapAdapter, wire: Wire
) -> None:
    """zeep's minOccurs check becomes InvalidRequest with the element's path."""
    with pytest.raises(InvalidRequest, match=r"ReadMultiple\.filter"):
        await erp.call("SalesOrder.ReadMultiple", {"setSize": 5})
    assert wire.transport.requests == []


async def test_unknown_operation_is_an_invalid_request_with_a_suggestion(erp: SoapAdapter) -> None:
    """Calling an operation the WSDLs do not have suggests the closest name."""
    with pytest.raises(InvalidRequest, match=r"did you mean 'SalesOrder\.ReadMultiple'"):
        await erp.call("SalesOrder.ReadMultipel", {})


def _any_filter() -> dict[str, object]:
    return {"filter": [{"Field": "No", "Criteria": "*"}]}
