"""The ERP's own records (its copy of the world's items and sales orders) and their page fields.

The ERP owns these: it copies its slice of the shared :class:`~sandbox.dataset.World` once and
mutates only the copy. Every record carries NAV's rowversion (``version``), which goes into its
Key and changes on every write, and a cache of its rendered XML that a write throws away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.erp.fieldtypes import BOOLEAN, DATE, DECIMAL, TEXT, FieldType, option_type
from sandbox.erp.keys import (
    ITEM_TABLE,
    SALES_HEADER_TABLE,
    SALES_LINE_TABLE,
    RecordKey,
    encode_key,
)

__all__ = [
    "ITEM_FIELDS",
    "ORDER_DOCUMENT_TYPE",
    "ORDER_FIELDS",
    "ORDER_STATUSES",
    "ItemRecord",
    "LineRecord",
    "OrderRecord",
    "PageField",
]

CENT = Decimal("0.01")
ORDER_STATUSES = ("Open", "Released", "Pending_Approval", "Pending_Prepayment")
ORDER_DOCUMENT_TYPE = 1  # Sales Header's "Document Type" option: Quote=0, Order=1, ...


@dataclass(slots=True)
class ItemRecord:
    no: str
    description: str
    unit_price: Decimal
    base_unit_of_measure: str
    blocked: bool
    version: int
    xml: str | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return encode_key(RecordKey(ITEM_TABLE, (self.no,), self.version))


@dataclass(slots=True)
class LineRecord:
    line_no: int
    item_no: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    version: int

    @property
    def line_amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)

    def key(self, order_no: str) -> str:
        fields = (ORDER_DOCUMENT_TYPE, order_no, self.line_no)
        return encode_key(RecordKey(SALES_LINE_TABLE, fields, self.version))


@dataclass(slots=True)
class OrderRecord:
    no: str
    customer_no: str
    customer_name: str
    order_date: date
    status: str
    external_document_no: str | None
    currency_code: str
    lines: list[LineRecord]
    version: int
    xml: str | None = field(default=None, repr=False, compare=False)

    @property
    def amount(self) -> Decimal:
        return sum((line.line_amount for line in self.lines), Decimal("0.00"))

    @property
    def key(self) -> str:
        fields = (ORDER_DOCUMENT_TYPE, self.no)
        return encode_key(RecordKey(SALES_HEADER_TABLE, fields, self.version))


@dataclass(frozen=True, slots=True)
class PageField:
    """A field clients may filter on: its type, how to read it, and NAV's caption for messages."""

    type: FieldType
    value_of: Callable[[Any], Any]
    caption: str


ORDER_FIELDS: dict[str, PageField] = {
    "No": PageField(TEXT, lambda o: o.no, "No."),
    "Sell_to_Customer_No": PageField(TEXT, lambda o: o.customer_no, "Sell-to Customer No."),
    "Sell_to_Customer_Name": PageField(TEXT, lambda o: o.customer_name, "Sell-to Customer Name"),
    "Order_Date": PageField(DATE, lambda o: o.order_date, "Order Date"),
    "Status": PageField(option_type(*ORDER_STATUSES), lambda o: o.status, "Status"),
    "External_Document_No": PageField(
        TEXT, lambda o: o.external_document_no, "External Document No."
    ),
    "Currency_Code": PageField(TEXT, lambda o: o.currency_code, "Currency Code"),
    "Amount": PageField(DECIMAL, lambda o: o.amount, "Amount"),
}

ITEM_FIELDS: dict[str, PageField] = {
    "No": PageField(TEXT, lambda i: i.no, "No."),
    "Description": PageField(TEXT, lambda i: i.description, "Description"),
    "Unit_Price": PageField(DECIMAL, lambda i: i.unit_price, "Unit Price"),
    "Base_Unit_of_Measure": PageField(
        TEXT, lambda i: i.base_unit_of_measure, "Base Unit of Measure"
    ),
    "Blocked": PageField(BOOLEAN, lambda i: i.blocked, "Blocked"),
}
