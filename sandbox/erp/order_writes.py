"""How a Create or Update turns into a sales order: NAV's validations, defaults and amounts.

Both work on a new record and hand it back to the store only when every check has passed, so a
refused write changes nothing. Fields are applied in page order, as NAV validates them: a new
``Sell_to_Customer_No`` fills in the customer's name, and an explicit ``Sell_to_Customer_Name``
after it wins. Only fields present in the request change; ``Amount`` and ``Line_Amount`` are
computed, never taken from the client.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.erp.errors import NavFault
from sandbox.erp.fieldtypes import DATE, DECIMAL, FieldType, option_type
from sandbox.erp.keys import SALES_LINE_TABLE, InvalidKey, decode_key
from sandbox.erp.records import ORDER_STATUSES, LineRecord, OrderRecord

if TYPE_CHECKING:
    from sandbox.erp.store import ErpStore

__all__ = ["OrderInput", "modified_by_another_user", "new_order", "updated_order"]

_LINE_STEP = 10000
_STATUS = option_type(*ORDER_STATUSES)
_LINE_TYPE = option_type("Item")


@dataclass
class OrderInput:
    """A SalesOrder element as sent: the fields present (text) and its lines, if any were sent."""

    fields: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, str]] = field(default_factory=list)


def modified_by_another_user(table: str) -> str:
    return (
        f"Another user has modified the record for this {table} after you retrieved it from the "
        "database. Refresh the page and try again."
    )


def new_order(store: ErpStore, request: OrderInput) -> OrderRecord:
    """A new order from a Create request, numbered from the series unless the client chose No."""
    no = request.fields.get("No") or store.next_order_no()
    if no in store.orders:
        raise NavFault(
            "The Sales Header already exists. Identification fields and values: "
            f"Document Type='Order',No.='{no}'"
        )
    if not request.fields.get("Sell_to_Customer_No"):
        raise NavFault(
            "Sell-to Customer No. must have a value in Sales Header: Document Type=Order, "
            f"No.={no}. It cannot be zero or empty."
        )
    order = OrderRecord(
        no=no,
        customer_no="",
        customer_name="",
        order_date=store.today(),
        status="Open",
        external_document_no=None,
        currency_code="USD",
        lines=[],
        version=0,
    )
    return _applied(store, order, request)


def updated_order(store: ErpStore, current: OrderRecord, request: OrderInput) -> OrderRecord:
    """A copy of ``current`` with the request's fields and lines applied."""
    requested_no = request.fields.get("No")
    if requested_no and requested_no != current.no:
        raise NavFault(f"You cannot change No. of Sales Header {current.no} with an Update.")
    lines = [dataclasses.replace(line) for line in current.lines]
    order = dataclasses.replace(current, lines=lines, xml=None)
    return _applied(store, order, request)


def _applied(store: ErpStore, order: OrderRecord, request: OrderInput) -> OrderRecord:
    fields = request.fields
    if "Sell_to_Customer_No" in fields:
        customer_no = fields["Sell_to_Customer_No"]
        name = store.customers.get(customer_no)
        if name is None:
            raise NavFault(
                "The Customer does not exist. Identification fields and values: "
                f"No.='{customer_no}'"
            )
        order.customer_no, order.customer_name = customer_no, name
    if "Sell_to_Customer_Name" in fields:
        order.customer_name = fields["Sell_to_Customer_Name"]
    if "Order_Date" in fields:
        order.order_date = _converted(fields["Order_Date"], DATE, "Date")
    if "Status" in fields:
        status = _converted(fields["Status"], _STATUS, "Option")
        order.status = ORDER_STATUSES[status]
    if "External_Document_No" in fields:
        order.external_document_no = fields["External_Document_No"] or None
    if "Currency_Code" in fields:
        order.currency_code = fields["Currency_Code"]
    for line_fields in request.lines:
        _apply_line(store, order, line_fields)
    order.version = store.next_version()
    return order


def _apply_line(store: ErpStore, order: OrderRecord, fields: dict[str, str]) -> None:
    key = fields.get("Key")
    if key:
        line = _keyed_line(order, key)
    else:
        line_no = max((line.line_no for line in order.lines), default=0) + _LINE_STEP
        line = LineRecord(line_no, "", "", Decimal(0), Decimal(0), version=0)
        if not fields.get("No"):
            raise NavFault(
                f"No. must have a value in Sales Line: Document Type=Order, Document No.="
                f"{order.no}, Line No.={line_no}. It cannot be zero or empty."
            )
        order.lines.append(line)
    if "Type" in fields:
        _converted(fields["Type"], _LINE_TYPE, "Option")
    if fields.get("No"):
        item = store.items.get(fields["No"])
        if item is None:
            raise NavFault(
                f"The Item does not exist. Identification fields and values: No.='{fields['No']}'"
            )
        if item.blocked:
            raise NavFault(
                f"Blocked must be equal to 'No'  in Item: No.={item.no}. Current value is 'Yes'."
            )
        # Validating No. fills the line from the item card; explicit fields below override it.
        line.item_no = item.no
        line.description = item.description
        line.unit_price = item.unit_price
    if "Description" in fields:
        line.description = fields["Description"]
    if "Quantity" in fields:
        line.quantity = _converted(fields["Quantity"], DECIMAL, "Decimal")
    if "Unit_Price" in fields:
        line.unit_price = _converted(fields["Unit_Price"], DECIMAL, "Decimal")
    line.version = store.next_version()


def _keyed_line(order: OrderRecord, key: str) -> LineRecord:
    try:
        record_key = decode_key(key)
    except InvalidKey as exc:
        raise NavFault(f"The key is not valid: {exc}.") from None
    if record_key.table != SALES_LINE_TABLE or len(record_key.fields) != 3:
        raise NavFault(f"The key {key} does not belong to a Sales Line.")
    _, document_no, line_no = record_key.fields
    line = next((line for line in order.lines if line.line_no == line_no), None)
    if document_no != order.no or line is None:
        raise NavFault(
            "The Sales Line does not exist. Identification fields and values: "
            f"Document Type='Order',Document No.='{document_no}',Line No.='{line_no}'"
        )
    if line.version != record_key.version:
        raise NavFault(modified_by_another_user("Sales Line"))
    return line


def _converted(text: str, field_type: FieldType, type_name: str) -> Any:
    try:
        return field_type.parse(text)
    except ValueError:
        raise NavFault(f'The value "{text}" can\'t be evaluated into type {type_name}.') from None
