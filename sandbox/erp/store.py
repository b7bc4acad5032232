"""The ERP's data: its items, sales orders and customer numbers, and the page operations on them.

This is the ERP's business layer, free of SOAP: the page services in :mod:`sandbox.erp.pages`
decode a request, call one method here and render what it returns. Every refusal is a
:class:`~sandbox.erp.errors.NavFault` worded as NAV words it. Writes are synchronous and never
await, so on the event loop each one is atomic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sandbox.dataset import SalesOrder, World
from sandbox.erp import order_writes
from sandbox.erp.errors import NavFault
from sandbox.erp.keys import (
    ITEM_TABLE,
    SALES_HEADER_TABLE,
    InvalidKey,
    RecordKey,
    decode_key,
)
from sandbox.erp.order_writes import OrderInput
from sandbox.erp.records import (
    ITEM_FIELDS,
    ORDER_DOCUMENT_TYPE,
    ORDER_FIELDS,
    ItemRecord,
    LineRecord,
    OrderRecord,
)
from sandbox.erp.table import Filter, Table

__all__ = ["ErpStore"]

_FIRST_ROWVERSION = 4_432_750  # SQL Server timestamps are large, store-wide and only grow
_ORDER_PREFIX = "SO-"


def _utc_today() -> date:
    return datetime.now(UTC).date()


class ErpStore:
    """Items, sales orders and known customers, copied from the world and owned by the ERP."""

    def __init__(self, world: World, *, today: Callable[[], date] = _utc_today) -> None:
        self.today = today
        self._rowversions = itertools.count(_FIRST_ROWVERSION)
        self.customers: dict[str, str] = {c.ref: c.name for c in world.customers if c.is_company}
        self.items: Table[ItemRecord] = Table(
            "Item",
            ITEM_FIELDS,
            (
                ItemRecord(
                    no=item.no,
                    description=item.description,
                    unit_price=item.unit_price,
                    base_unit_of_measure=item.unit_of_measure,
                    blocked=item.blocked,
                    version=self.next_version(),
                )
                for item in world.items
            ),
        )
        self.orders: Table[OrderRecord] = Table(
            "Sales Header", ORDER_FIELDS, (self._copy_order(order) for order in world.orders)
        )
        self._order_numbers = itertools.count(self._last_order_number() + 1)

    def next_version(self) -> int:
        """The next rowversion: every write stamps the records it touches with one."""
        return next(self._rowversions)

    def next_order_no(self) -> str:
        """The next free number of the sales order number series (SO-100421 on a fresh world)."""
        while True:
            no = f"{_ORDER_PREFIX}{next(self._order_numbers)}"
            if no not in self.orders:
                return no

    # Item page

    def read_item(self, no: str) -> ItemRecord | None:
        return self.items.get(no)

    def read_items(
        self, filters: Sequence[Filter], bookmark: str | None, size: int
    ) -> list[ItemRecord]:
        after = self._bookmarked_no(bookmark, ITEM_TABLE)
        return self.items.page(filters, after, _checked_size(size))

    # Sales Order page

    def read_order(self, no: str) -> OrderRecord | None:
        return self.orders.get(no)

    def read_orders(
        self, filters: Sequence[Filter], bookmark: str | None, size: int
    ) -> list[OrderRecord]:
        after = self._bookmarked_no(bookmark, SALES_HEADER_TABLE)
        return self.orders.page(filters, after, _checked_size(size))

    def create_order(self, request: OrderInput) -> OrderRecord:
        order = order_writes.new_order(self, request)
        self.orders.put(order)
        return order

    def update_order(self, request: OrderInput) -> OrderRecord:
        current = self._current_order(request.fields.get("Key"), "Update")
        order = order_writes.updated_order(self, current, request)
        self.orders.put(order)
        return order

    def delete_order(self, key: str | None) -> bool:
        current = self._current_order(key, "Delete")
        self.orders.remove(current.no)
        return True

    # helpers

    def _current_order(self, key: str | None, operation: str) -> OrderRecord:
        """The order a client's Key names, refusing a Key older than the record (NAV's check)."""
        if not key:
            raise NavFault(f"{operation} needs the Key of the Sales Header; read the record first.")
        record_key = _decoded(key, SALES_HEADER_TABLE)
        no = str(record_key.fields[-1])
        current = self.orders.get(no)
        if current is None:
            raise NavFault(
                "The Sales Header does not exist. Identification fields and values: "
                f"Document Type='Order',No.='{no}'"
            )
        if current.version != record_key.version:
            raise NavFault(order_writes.modified_by_another_user("Sales Header"))
        return current

    def _bookmarked_no(self, bookmark: str | None, table: int) -> str | None:
        if not bookmark:
            return None
        return str(_decoded(bookmark, table).fields[-1])

    def _copy_order(self, order: SalesOrder) -> OrderRecord:
        lines = [
            LineRecord(
                line_no=line.line_no,
                item_no=line.item_no,
                description=line.description,
                quantity=Decimal(line.quantity),
                unit_price=line.unit_price,
                version=self.next_version(),
            )
            for line in order.lines
        ]
        return OrderRecord(
            no=order.no,
            customer_no=order.customer_no,
            customer_name=order.customer_name,
            order_date=order.order_date,
            status=order.status,
            external_document_no=order.external_document_no,
            currency_code=order.currency,
            lines=lines,
            version=self.next_version(),
        )

    def _last_order_number(self) -> int:
        numbers = [
            int(no[len(_ORDER_PREFIX) :])
            for no in (order.no for order in self.orders)
            if no.startswith(_ORDER_PREFIX) and no[len(_ORDER_PREFIX) :].isdigit()
        ]
        return max(numbers, default=100_000)


def _decoded(key: str, table: int) -> RecordKey:
    try:
        record_key = decode_key(key)
    except InvalidKey as exc:
        raise NavFault(f"The key is not valid: {exc}.") from None
    expected_fields = 2 if table == SALES_HEADER_TABLE else 1
    if record_key.table != table or len(record_key.fields) != expected_fields:
        raise NavFault(f"The key {key} does not belong to this page.")
    if table == SALES_HEADER_TABLE and record_key.fields[0] != ORDER_DOCUMENT_TYPE:
        raise NavFault(f"The key {key} does not belong to a sales order.")
    return record_key


def _checked_size(size: int) -> int:
    if size < 0:
        raise NavFault("setSize must be 0 (all records) or a positive number of records.")
    return size
