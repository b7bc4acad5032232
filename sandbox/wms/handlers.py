"""The warehouse messages a signed-in client may send, one function per ``<Name>Rq``.

Each takes the store and the request's params tree and returns the ``<Name>Rs`` body without its
status (the dispatcher adds it), or raises :class:`~sandbox.wms.status.FbiError`. Params arrive as
JSON values or as XML text, so numbers may come as ``5`` or ``"5"``; :func:`text` and
:func:`integer` read both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.wms import fbiobjects, query
from sandbox.wms.status import FbiError, Status
from sandbox.wms.store import ShipmentRecord, WmsStore

__all__ = ["HANDLERS", "Handler", "integer", "text"]

Params = dict[str, Any]
Handler = Callable[[WmsStore, Params], Params]


def text(params: Params, name: str, *, required: bool = True) -> str:
    value = params.get(name)
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        value = ""
    value = str(value).strip()
    if required and not value:
        raise FbiError(Status.REQUEST_INVALID, f"{name} is required.")
    return value


def integer(params: Params, name: str, *, default: int | None = None) -> int | None:
    value = text(params, name, required=False)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise FbiError(Status.REQUEST_INVALID, f"{name} must be a whole number.") from None


def inv_qty(store: WmsStore, params: Params) -> Params:
    num = text(params, "PartNum")
    found = store.part(num)
    if found is None:
        raise FbiError(Status.PART_NOT_FOUND, num)
    part_tree = fbiobjects.part(found)
    return {"InvQty": [fbiobjects.inv_qty(row, part_tree) for row in store.inventory(found)]}


def part_get(store: WmsStore, params: Params) -> Params:
    num = text(params, "Number")
    found = store.part(num)
    if found is None:
        raise FbiError(Status.PART_NOT_FOUND, num)
    return {"Part": fbiobjects.part(found)}


def get_shipment(store: WmsStore, params: Params) -> Params:
    shipment_id = integer(params, "ShipmentID")
    number = text(params, "ShipmentNUM", required=False)
    if shipment_id is None and not number:
        raise FbiError(Status.REQUEST_INVALID, "ShipmentID or ShipmentNUM is required.")
    record = store.shipment_by_id(shipment_id) if shipment_id is not None else None
    if record is None and number:
        record = store.shipment_by_number(number)
    if record is None:
        raise FbiError(Status.SHIPMENT_NOT_FOUND, number or str(shipment_id))
    return {"Shipping": fbiobjects.shipping(record)}


def get_ship_list(store: WmsStore, params: Params) -> Params:
    order_no = text(params, "OrderNumber", required=False)
    records: list[ShipmentRecord] = (
        store.shipments_for_order(order_no) if order_no else list(store.shipments.values())
    )
    start = integer(params, "StartRecord", default=0) or 0
    count = integer(params, "RecordCount")
    page = records[start : None if count is None else start + count]
    return {"Shipping": [fbiobjects.shipping(record) for record in page]}


def ship(store: WmsStore, params: Params) -> Params:
    number = text(params, "ShipNum")
    record = store.shipment_by_number(number)
    if record is None:
        raise FbiError(Status.SHIPMENT_NOT_FOUND, number)
    if record.status == "Shipped":
        raise FbiError(Status.SHIPMENT_STATUS_ERROR, f"{record.number} has already shipped.")
    store.ship(record, _ship_date(text(params, "ShipDate", required=False)))
    return {"Shipping": [fbiobjects.shipping(record)]}


def execute_query(store: WmsStore, params: Params) -> Params:
    return {"Rows": {"Row": query.run(store, text(params, "Query"))}}


def _ship_date(value: str) -> datetime:
    if not value:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FbiError(Status.REQUEST_INVALID, f"ShipDate {value!r} is not a date.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


HANDLERS: dict[str, Handler] = {
    "InvQtyRq": inv_qty,
    "PartGetRq": part_get,
    "GetShipmentRq": get_shipment,
    "GetShipListRq": get_ship_list,
    "ShipRq": ship,
    "ExecuteQueryRq": execute_query,
}
