"""The warehouse's own records: parts, stock per location, shipments and what they commit.

Copied from the shared :class:`~sandbox.dataset.World` at construction (never mutated there).
Open shipments (Entered, Packed) commit stock: each line is allocated to the part's locations in
name order, so ``QtyAvailable = QtyOnHand - QtyCommitted`` per location, as in Fishbowl.
Shipping a shipment takes its allocated quantities off the shelves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sandbox.dataset import World

__all__ = ["Location", "Part", "ShipmentRecord", "StockRow", "WmsStore"]

# Fishbowl's ship status ids.
SHIP_STATUS = {"Entered": 10, "Packed": 20, "Shipped": 30, "Cancelled": 40}
OPEN_STATUSES = frozenset({"Entered", "Packed"})


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    name: str
    group_id: int
    group_name: str
    pickable: bool


@dataclass(frozen=True, slots=True)
class Part:
    id: int
    num: str
    description: str
    uom: str
    active: bool


@dataclass(slots=True)
class StockRow:
    part: Part
    location: Location
    on_hand: int
    committed: int = 0


@dataclass(slots=True)
class ShipmentRecord:
    id: int
    number: str
    order_no: str
    created: date
    status: str
    carrier: str
    tracking: str | None
    date_shipped: datetime | None
    modified: datetime
    items: list[tuple[Part, int]]
    allocations: list[tuple[StockRow, int]] = field(default_factory=list)


class WmsStore:
    def __init__(self, world: World) -> None:
        self.parts: dict[str, Part] = {
            item.no: Part(index, item.no, item.description, item.unit_of_measure, not item.blocked)
            for index, item in enumerate(world.items, start=1)
        }
        self.locations = _locations(world)
        self.stock: dict[str, list[StockRow]] = defaultdict(list)
        for level in world.stock:
            row = StockRow(self.parts[level.part_num], self.locations[level.location], level.qty)
            self.stock[level.part_num].append(row)
        for rows in self.stock.values():
            rows.sort(key=lambda row: row.location.name)
        order_dates = {order.no: order.order_date for order in world.orders}
        self.shipments: dict[int, ShipmentRecord] = {}
        self._by_number: dict[str, ShipmentRecord] = {}
        self._by_order: dict[str, list[ShipmentRecord]] = defaultdict(list)
        for source in world.shipments:
            created = order_dates.get(source.order_no, date(2026, 1, 5))
            record = ShipmentRecord(
                id=source.id,
                number=source.number,
                order_no=source.order_no,
                created=created,
                status=source.status,
                carrier=source.carrier,
                tracking=source.tracking,
                date_shipped=source.date_shipped,
                modified=source.date_shipped
                or datetime.combine(created, datetime.min.time(), tzinfo=UTC),
                items=[(self.parts[num], qty) for num, qty in source.items if num in self.parts],
            )
            self.shipments[record.id] = record
            self._by_number[record.number.upper()] = record
            self._by_order[record.order_no.upper()].append(record)
            if record.status in OPEN_STATUSES:
                self._commit(record)

    def part(self, num: str) -> Part | None:
        return self.parts.get(num.strip().upper())

    def inventory(self, part: Part) -> list[StockRow]:
        return self.stock.get(part.num, [])

    def shipment_by_id(self, shipment_id: int) -> ShipmentRecord | None:
        return self.shipments.get(shipment_id)

    def shipment_by_number(self, number: str) -> ShipmentRecord | None:
        number = number.strip().upper()
        if number.isdigit():  # GetShipmentRq's ShipmentNUM is an integer: 10042 means S10042
            number = f"S{number}"
        return self._by_number.get(number)

    def shipments_for_order(self, order_no: str) -> list[ShipmentRecord]:
        order_no = order_no.strip().upper()
        if order_no.isdigit():  # GetShipListRq's OrderNumber is an integer: 100001 is SO-100001
            order_no = f"SO-{order_no}"
        return self._by_order.get(order_no, [])

    def ship(self, record: ShipmentRecord, when: datetime) -> None:
        """Mark ``record`` shipped at ``when`` and take its committed stock off the shelves."""
        for row, qty in record.allocations:
            row.on_hand -= qty
            row.committed -= qty
        record.allocations.clear()
        record.status = "Shipped"
        record.date_shipped = record.modified = when
        if record.tracking is None and record.carrier != "Will Call":
            record.tracking = f"1Z{record.id:06d}{int(when.timestamp()) % 10**10:010d}"

    def _commit(self, record: ShipmentRecord) -> None:
        for part, qty in record.items:
            remaining = qty
            for row in self.stock.get(part.num, []):
                take = min(remaining, row.on_hand - row.committed)
                if take > 0:
                    row.committed += take
                    record.allocations.append((row, take))
                    remaining -= take
                if remaining == 0:
                    break


def _locations(world: World) -> dict[str, Location]:
    group_of = {level.location: level.location_group for level in world.stock}
    group_ids = {group: index for index, group in enumerate(sorted(set(group_of.values())), 1)}
    return {
        name: Location(
            id=index,
            name=name,
            group_id=group_ids[group_of[name]],
            group_name=group_of[name],
            pickable=name != "RECEIVING",
        )
        for index, name in enumerate(sorted(group_of), start=1)
    }
