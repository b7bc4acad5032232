"""Store records rendered as Fishbowl's message objects (``Part``, ``InvQty``, ``Shipping``).

Element names and nesting follow Fishbowl's ``fbimsgobjs.xsd``. Two fields the schema's
``Shipping`` lacks but the Fishbowl ``ship`` table has are added, under the names the rest of
the API uses for them: ``ShipNum`` (as in ``ShipRq``) and ``DateShipped``. ``Status`` is the
integer ship status id (10 Entered, 20 Packed, 30 Shipped); dates are zone-less server time
(UTC), ``YYYY-MM-DD`` for dates and ``YYYY-MM-DDTHH:MM:SS`` for date-times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.wms.store import SHIP_STATUS, Location, Part, ShipmentRecord, StockRow

__all__ = ["inv_qty", "location", "part", "shipping"]

Tree = dict[str, Any]

_INVENTORY_PART_TYPE = 10  # Fishbowl part type "Inventory"
_STOCK_LOCATION_TYPE = 10  # Fishbowl location type "Stock"


def part(record: Part) -> Tree:
    return {
        "PartID": record.id,
        "PartClassID": 0,
        "TypeID": _INVENTORY_PART_TYPE,
        "UOM": _uom(record.uom),
        "Num": record.num,
        "Description": record.description,
        "Details": "",
        "HasBOM": False,
        "Configurable": False,
        "PickInPartUOM": True,
        "ActiveFlag": record.active,
        "SerializedFlag": False,
        "TrackingFlag": False,
        "UPC": "",
    }


def location(record: Location) -> Tree:
    return {
        "LocationID": record.id,
        "TypeID": _STOCK_LOCATION_TYPE,
        "Name": record.name,
        "Description": f"{record.group_name} {record.name}",
        "CountedAsAvailable": True,
        "Active": True,
        "Pickable": record.pickable,
        "Receivable": True,
        "LocationGroupID": record.group_id,
        "LocationGroupName": record.group_name,
    }


def inv_qty(row: StockRow, part_tree: Tree) -> Tree:
    return {
        "Part": part_tree,
        "Location": location(row.location),
        "QtyOnHand": row.on_hand,
        "QtyAvailable": row.on_hand - row.committed,
        "QtyCommitted": row.committed,
    }


def shipping(record: ShipmentRecord) -> Tree:
    carton: Tree = {"ID": record.id, "ShipID": record.id, "CartonNum": 1}
    if record.tracking:
        carton["TrackingNum"] = record.tracking
    carton["ShippingItems"] = {
        "ShippingItem": [
            {
                "ShipItemID": record.id * 100 + line,
                "ProductNumber": item.num,
                "ProductDescription": item.description,
                "QtyShipped": qty,
                "UOM": _uom(item.uom),
                "SKU": item.num,
                "OrderLineItem": line,
                "CartonName": "1",
            }
            for line, (item, qty) in enumerate(record.items, start=1)
        ]
    }
    tree: Tree = {
        "ID": record.id,
        "ShipNum": record.number,
        "OrderNumber": record.order_no,
        "OrderType": "SO",
        "CreatedDate": record.created.isoformat(),
        "DateLastModified": _datetime(record.modified),
        "Carrier": record.carrier,
        "Status": SHIP_STATUS[record.status],
        "CartonCount": 1,
    }
    if record.date_shipped is not None:
        tree["DateShipped"] = _datetime(record.date_shipped)
    tree["Cartons"] = {"Carton": [carton]}
    return tree


def _uom(code: str) -> Tree:
    return {
        "UOMID": 1,
        "Name": "Each",
        "Code": code,
        "Integral": True,
        "Active": True,
        "Type": "Count",
    }


def _datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")
