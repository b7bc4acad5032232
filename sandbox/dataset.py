"""The sandbox's seeded world: one company's customers, items, orders, stock and shipments.

The three systems each own a slice of one consistent world, as they would in a real company: an
ERP sales order's ``sell_to_customer_no`` is the ``ref`` of a CRM partner, its lines name items
whose part numbers the WMS stocks, and released orders have a WMS shipment. The same seed always
gives the same world, so tests and the README can name real records (order ``SO-100001``,
customer ``C00001``, item ``1000-BK``).

Times are UTC. Money is held as :class:`~decimal.Decimal` with two places.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sandbox import vocabulary as words

__all__ = [
    "Customer",
    "Item",
    "Lead",
    "OrderLine",
    "SalesOrder",
    "Shipment",
    "StockLevel",
    "World",
    "build_world",
]

EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CENT = Decimal("0.01")


@dataclass
class Customer:
    id: int
    ref: str  # the ERP customer number, e.g. C00042
    name: str
    is_company: bool
    email: str | None
    phone: str | None
    street: str | None
    city: str
    zip: str
    country_code: str
    country_name: str
    vat: str | None
    salesperson: tuple[int, str] | None
    parent_id: int | None
    created: datetime
    updated: datetime


@dataclass
class Lead:
    id: int
    name: str
    partner_id: int | None
    contact_name: str | None
    email: str | None
    stage: tuple[int, str]
    expected_revenue: float
    probability: float
    kind: str  # "lead" | "opportunity"
    salesperson: tuple[int, str] | None
    deadline: date | None
    created: datetime


@dataclass
class Item:
    no: str  # the SKU, shared by the ERP item card and the WMS part number
    description: str
    unit_price: Decimal
    unit_of_measure: str
    blocked: bool


@dataclass
class OrderLine:
    line_no: int
    item_no: str
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def line_amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)


@dataclass
class SalesOrder:
    no: str
    customer_no: str
    customer_name: str
    order_date: date
    status: str
    external_document_no: str | None
    currency: str
    lines: list[OrderLine]
    version: int = 1  # bumped on every write; part of the NAV-style Key

    @property
    def amount(self) -> Decimal:
        return sum((line.line_amount for line in self.lines), Decimal("0.00"))


@dataclass
class StockLevel:
    part_num: str
    location: str  # e.g. MAIN-A1
    location_group: str  # e.g. MAIN
    qty: int


@dataclass
class Shipment:
    id: int
    number: str  # e.g. S10042
    order_no: str
    status: str  # Entered | Packed | Shipped
    carrier: str
    tracking: str | None
    date_shipped: datetime | None
    items: list[tuple[str, int]]  # (part number, quantity)


@dataclass
class World:
    customers: list[Customer] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    orders: list[SalesOrder] = field(default_factory=list)
    stock: list[StockLevel] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)


def build_world(seed: int = 20260105) -> World:
    """Build the seeded world; the same seed always gives the same records."""
    rng = random.Random(seed)
    world = World()
    world.customers = _customers(rng)
    world.leads = _leads(rng, world.customers)
    world.items = _items(rng)
    world.orders = _orders(rng, world.customers, world.items)
    world.stock = _stock(rng, world.items)
    world.shipments = _shipments(rng, world.orders)
    return world


def _customers(rng: random.Random) -> list[Customer]:
    customers: list[Customer] = []
    names = [f"{head} {tail}" for head in words.COMPANY_HEADS for tail in words.COMPANY_TAILS]
    rng.shuffle(names)
    for index, name in enumerate(names[:240], start=1):
        city, zip_code, code, country = rng.choice(words.CITIES)
        domain = name.lower().replace("'", "").replace(" ", "") + ".example"
        created = EPOCH - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86399))
        customers.append(
            Customer(
                id=index + 6,  # Odoo's first records are the company and demo users
                ref=f"C{index:05d}",
                name=name,
                is_company=True,
                email=f"orders@{domain}" if rng.random() > 0.08 else None,
                phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                if rng.random() > 0.2
                else None,
                street=f"{rng.randint(1, 999)} {rng.choice(words.STREETS)}"
                if rng.random() > 0.05
                else None,
                city=city,
                zip=zip_code,
                country_code=code,
                country_name=country,
                vat=f"{code}{rng.randint(10**8, 10**9 - 1)}" if rng.random() > 0.4 else None,
                salesperson=rng.choice(words.SALESPEOPLE) if rng.random() > 0.15 else None,
                parent_id=None,
                created=created,
                updated=created + timedelta(days=rng.randint(0, 25), minutes=rng.randint(0, 600)),
            )
        )
    companies = list(customers)
    for offset in range(120):
        company = rng.choice(companies)
        first, last = rng.choice(words.FIRST), rng.choice(words.LAST)
        created = company.created + timedelta(days=rng.randint(0, 60))
        customers.append(
            Customer(
                id=len(customers) + 7,
                ref=f"P{offset + 1:05d}",
                name=f"{first} {last}",
                is_company=False,
                email=f"{first.lower()}.{last.lower()}@{company.email.split('@')[1]}"
                if company.email
                else None,
                phone=None,
                street=company.street,
                city=company.city,
                zip=company.zip,
                country_code=company.country_code,
                country_name=company.country_name,
                vat=None,
                salesperson=company.salesperson,
                parent_id=company.id,
                created=created,
                updated=created,
            )
        )
    return customers


def _leads(rng: random.Random, customers: list[Customer]) -> list[Lead]:
    leads: list[Lead] = []
    companies = [c for c in customers if c.is_company]
    for index in range(1, 201):
        partner = rng.choice(companies) if rng.random() > 0.3 else None
        stage = rng.choice(words.LEAD_STAGES)
        first, last = rng.choice(words.FIRST), rng.choice(words.LAST)
        product = rng.choice(words.ITEM_KINDS)[0]
        leads.append(
            Lead(
                id=index,
                name=f"{rng.randint(5, 200)} x {product}"
                + (f" for {partner.name}" if partner else ""),
                partner_id=partner.id if partner else None,
                contact_name=f"{first} {last}",
                email=partner.email
                if partner and rng.random() > 0.3
                else f"{first.lower()}@{last.lower()}.example",
                stage=stage,
                expected_revenue=float(rng.randint(10, 900) * 50),
                probability={1: 10.0, 2: 30.0, 3: 60.0, 4: 100.0}[stage[0]],
                kind="opportunity" if stage[0] > 1 else "lead",
                salesperson=rng.choice(words.SALESPEOPLE) if rng.random() > 0.2 else None,
                deadline=(EPOCH + timedelta(days=rng.randint(10, 200))).date()
                if rng.random() > 0.35
                else None,
                created=EPOCH - timedelta(days=rng.randint(0, 180), seconds=rng.randint(0, 86399)),
            )
        )
    return leads


def _items(rng: random.Random) -> list[Item]:
    items: list[Item] = []
    for kind, prefix in words.ITEM_KINDS:
        base = Decimal(rng.randint(40, 900)) + Decimal(rng.choice((0, 50, 90, 99))) / 100
        for code, colour in rng.sample(words.VARIANTS, 10):
            description = f"{kind.split(',')[0]}, {colour}"
            items.append(
                Item(
                    no=f"{prefix}-{code}",
                    description=description,
                    unit_price=(
                        base * Decimal(rng.choice(("1.00", "1.05", "1.10", "0.95")))
                    ).quantize(CENT),
                    unit_of_measure="PCS",
                    blocked=rng.random() < 0.03,
                )
            )
    return items


def _orders(rng: random.Random, customers: list[Customer], items: list[Item]) -> list[SalesOrder]:
    orders: list[SalesOrder] = []
    companies = [c for c in customers if c.is_company]
    sellable = [i for i in items if not i.blocked]
    for index in range(1, 421):
        customer = rng.choice(companies)
        lines = [
            OrderLine(
                line_no=10000 * n,
                item_no=item.no,
                description=item.description,
                quantity=rng.randint(1, 40),
                unit_price=item.unit_price,
            )
            for n, item in enumerate(rng.sample(sellable, rng.randint(1, 5)), start=1)
        ]
        orders.append(
            SalesOrder(
                no=f"SO-{100000 + index}",
                customer_no=customer.ref,
                customer_name=customer.name,
                order_date=(EPOCH + timedelta(days=index // 3)).date(),
                status=rng.choices(words.ORDER_STATUSES, weights=(5, 6, 1, 1))[0],
                external_document_no=f"PO-{rng.randint(10000, 99999)}"
                if rng.random() > 0.4
                else None,
                currency=rng.choice(("USD", "USD", "USD", "EUR", "GBP")),
                lines=lines,
            )
        )
    return orders


def _stock(rng: random.Random, items: list[Item]) -> list[StockLevel]:
    stock: list[StockLevel] = []
    for item in items:
        for location in sorted(rng.sample(words.LOCATIONS, rng.randint(1, 4))):
            stock.append(
                StockLevel(
                    part_num=item.no,
                    location=location,
                    location_group=location.split("-")[0],
                    qty=rng.choice((0, rng.randint(1, 20), rng.randint(20, 400))),
                )
            )
    return stock


def _shipments(rng: random.Random, orders: list[SalesOrder]) -> list[Shipment]:
    shipments: list[Shipment] = []
    for order in orders:
        if order.status != "Released":
            continue
        status = rng.choices(("Entered", "Packed", "Shipped"), weights=(2, 2, 6))[0]
        carrier = rng.choice(words.CARRIERS)
        shipped = (
            datetime.combine(order.order_date, datetime.min.time(), tzinfo=UTC)
            + timedelta(days=rng.randint(1, 4), hours=rng.randint(7, 18))
            if status == "Shipped"
            else None
        )
        shipment_id = len(shipments) + 1
        shipments.append(
            Shipment(
                id=shipment_id,
                number=f"S{10000 + shipment_id}",
                order_no=order.no,
                status=status,
                carrier=carrier,
                tracking=f"1Z{rng.randint(10**15, 10**16 - 1)}"
                if shipped and carrier != "Will Call"
                else None,
                date_shipped=shipped,
                items=[(line.item_no, line.quantity) for line in order.lines],
            )
        )
    return shipments
