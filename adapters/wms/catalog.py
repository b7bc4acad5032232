"""The Fishbowl messages the ``fishbowl`` kind offers, named without their ``Rq`` suffix.

Parameters are the top-level elements of each request type in Fishbowl's ``fbimsg.xsd``.
``LoginRq`` and ``LogoutRq`` are absent on purpose: the adapter owns the session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from adapters.base import Operation

__all__ = ["FISHBOWL_OPERATIONS", "fishbowl_operations"]

FISHBOWL_OPERATIONS: Mapping[str, Operation] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operation(
                "InvQty",
                ("PartNum", "LastModifiedFrom", "LastModifiedTo"),
                read_only=True,
                doc="Quantity on hand, available and committed per location for one part.",
            ),
            Operation("PartGet", ("Number",), read_only=True, doc="One part by number."),
            Operation(
                "GetShipment",
                ("ShipmentID", "ShipmentNUM"),
                read_only=True,
                doc="One shipment by id or number.",
            ),
            Operation(
                "GetShipList",
                (
                    "StartRecord",
                    "RecordCount",
                    "OrderNumber",
                    "OrderTypeID",
                    "LocationGroup",
                    "Carrier",
                ),
                read_only=True,
                doc="Shipments, optionally of one order, a page at a time.",
            ),
            Operation(
                "ExecuteQuery",
                ("Name", "Query"),
                read_only=True,
                doc="A SQL SELECT or saved query; rows come back as CSV lines under Rows.Row.",
            ),
            Operation(
                "PickQuery",
                ("StartIndex", "RecordCount", "PickNum", "OrderNum", "PickType", "Status"),
                read_only=True,
                doc="Picks matching the filters.",
            ),
            Operation("Ship", ("ShipNum", "ShipDate", "FulfillService"), doc="Ship a shipment."),
            Operation(
                "AddInventory",
                ("PartNum", "Quantity", "UOMID", "Cost", "Note", "Tracking", "LocationTagNum"),
                doc="Add stock of a part at a location.",
            ),
            Operation(
                "Move",
                ("SourceLocation", "Part", "Quantity", "DestinationLocation"),
                doc="Move stock between locations.",
            ),
            Operation(
                "CycleCount",
                ("PartNum", "Quantity", "LocationID", "Tracking"),
                doc="Set the counted quantity of a part at a location.",
            ),
            Operation(
                "SOSave", ("SalesOrder", "IssueFlag", "IgnoreItems"), doc="Create or update an SO."
            ),
            Operation(
                "QuickShip",
                ("SONumber", "FulfillServiceItems", "LocationGroup"),
                doc="Pick, pack and ship a sales order in one step.",
            ),
        )
    }
)


def fishbowl_operations(
    extra: Iterable[str] = (), extra_read_only: Iterable[str] = ()
) -> Mapping[str, Operation]:
    """The built-in messages plus ``extra`` ones named in the backend's options."""
    if not extra:
        return FISHBOWL_OPERATIONS
    read_only = set(extra_read_only)
    merged = dict(FISHBOWL_OPERATIONS)
    for name in extra:
        merged.setdefault(name, Operation(name, read_only=name in read_only))
    return MappingProxyType(merged)
