"""A minimal ``ExecuteQueryRq``: one-table SELECTs over a few Fishbowl tables, rows as CSV lines.

Real Fishbowl runs any SQL against its database and returns ``Rows.Row`` as CSV text, the first
row holding the column names. Integrators lean on it for reads the message set lacks; the
sandbox answers the shape ``SELECT <* | columns> FROM <table> [WHERE <column> = <value>]`` over
``part``, ``location``, ``ship`` and ``qtyinventory``, and anything else with 1004 as the real
server answers SQL it cannot run.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.wms.status import FbiError, Status
from sandbox.wms.store import SHIP_STATUS, WmsStore

__all__ = ["run"]

_SELECT = re.compile(
    r"^\s*select\s+(?P<columns>\*|[\w\s,]+?)\s+from\s+(?P<table>\w+)"
    r"(?:\s+where\s+(?P<column>\w+)\s*=\s*(?:'(?P<text>[^']*)'|(?P<number>-?\d+)))?\s*;?\s*$",
    re.IGNORECASE,
)

Row = dict[str, Any]


def _parts(store: WmsStore) -> Iterable[Row]:
    for part in store.parts.values():
        yield {
            "id": part.id,
            "num": part.num,
            "description": part.description,
            "uom": part.uom,
            "activeFlag": part.active,
        }


def _locations(store: WmsStore) -> Iterable[Row]:
    for location in store.locations.values():
        yield {
            "id": location.id,
            "name": location.name,
            "locationGroupId": location.group_id,
            "locationGroup": location.group_name,
            "pickable": location.pickable,
        }


def _ships(store: WmsStore) -> Iterable[Row]:
    for ship in store.shipments.values():
        shipped = ship.date_shipped.strftime("%Y-%m-%d %H:%M:%S") if ship.date_shipped else ""
        yield {
            "id": ship.id,
            "num": ship.number,
            "orderNum": ship.order_no,
            "statusId": SHIP_STATUS[ship.status],
            "carrier": ship.carrier,
            "trackingNum": ship.tracking or "",
            "dateShipped": shipped,
        }


def _quantities(store: WmsStore) -> Iterable[Row]:
    for rows in store.stock.values():
        for row in rows:
            yield {
                "partId": row.part.id,
                "partNum": row.part.num,
                "locationId": row.location.id,
                "qtyOnHand": row.on_hand,
                "qtyCommitted": row.committed,
            }


_TABLES: dict[str, Callable[[WmsStore], Iterable[Row]]] = {
    "part": _parts,
    "location": _locations,
    "ship": _ships,
    "qtyinventory": _quantities,
}


def run(store: WmsStore, sql: str) -> list[str]:
    """The CSV lines (header first) answering ``sql``, or :class:`FbiError` 1004."""
    match = _SELECT.match(sql)
    if match is None:
        raise FbiError(Status.DATABASE_ERROR, "The sandbox runs only single-table SELECTs.")
    table = match["table"].lower()
    if table not in _TABLES:
        raise FbiError(Status.DATABASE_ERROR, f"Table '{match['table']}' doesn't exist.")
    rows = list(_TABLES[table](store))
    known = list(rows[0]) if rows else []
    by_lower = {name.lower(): name for name in known}
    columns = (
        known
        if match["columns"].strip() == "*"
        else [_column(by_lower, name.strip()) for name in match["columns"].split(",")]
    )
    if match["column"]:
        where = _column(by_lower, match["column"])
        wanted = match["text"] if match["text"] is not None else match["number"]
        rows = [row for row in rows if _cell(row[where]).lower() == wanted.lower()]
    return [_csv(columns)] + [_csv(_cell(row[name]) for name in columns) for row in rows]


def _column(by_lower: dict[str, str], name: str) -> str:
    try:
        return by_lower[name.lower()]
    except KeyError:
        raise FbiError(Status.DATABASE_ERROR, f"Unknown column '{name}'.") from None


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="").writerow(cells)
    return buffer.getvalue()
