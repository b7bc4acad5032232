"""``res.partner``: the CRM's companies and their people, seeded from the world's customers.

A partner's ``ref`` is the ERP customer number (``C00001``), so the gateway can join the two
systems. ``customer_rank`` counts the customer's ERP sales orders, as Odoo bumps it on each sale.
People belong to a company through ``parent_id`` and are displayed as ``"Company, Person"``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox.crm.definition import Constraint, ModelDef, Row, RowSource
from sandbox.crm.fields import FieldSpec, format_datetime
from sandbox.crm.lookups import country_id
from sandbox.dataset import World

__all__ = ["PARTNER", "partner_rows"]


def _complete_name(row: Row, partners: RowSource) -> str | None:
    parent = partners.get(row["parent_id"]) if row.get("parent_id") else None
    if parent is None or not row.get("name"):
        return row.get("name")
    return f"{_complete_name(parent, partners)}, {row['name']}"


def _child_ids(row: Row, partners: RowSource) -> list[int]:
    return [child["id"] for child in partners.rows() if child.get("parent_id") == row["id"]]


def _defaults(uid: int) -> Row:
    return {"is_company": False, "customer_rank": 0, "active": True}


PARTNER = ModelDef(
    name="res.partner",
    description="Contact",
    order="complete_name ASC, id DESC",
    rec_names=("complete_name", "email", "ref", "vat"),
    defaults=_defaults,
    computed={
        "display_name": _complete_name,
        "complete_name": _complete_name,
        "child_ids": _child_ids,
    },
    constraints=(
        Constraint(
            "res_partner_check_name", "Contacts require a name", lambda row: bool(row.get("name"))
        ),
    ),
    write_groups=("Administration/Settings", "Extra Rights/Contact Creation"),
    fields=(
        FieldSpec("id", "integer", "ID", readonly=True),
        FieldSpec("name", "char", "Name"),
        FieldSpec("display_name", "char", "Display Name", readonly=True, store=False),
        FieldSpec("complete_name", "char", "Complete Name", readonly=True),
        FieldSpec(
            "is_company",
            "boolean",
            "Is a Company",
            help="Check if the contact is a company, otherwise it is a person",
        ),
        FieldSpec("email", "char", "Email"),
        FieldSpec("phone", "char", "Phone"),
        FieldSpec("street", "char", "Street"),
        FieldSpec("city", "char", "City"),
        FieldSpec("zip", "char", "Zip"),
        FieldSpec("country_id", "many2one", "Country", relation="res.country"),
        FieldSpec("vat", "char", "Tax ID"),
        FieldSpec("ref", "char", "Reference"),
        FieldSpec("user_id", "many2one", "Salesperson", relation="res.users"),
        FieldSpec("parent_id", "many2one", "Related Company", relation="res.partner"),
        FieldSpec(
            "child_ids",
            "one2many",
            "Contact",
            relation="res.partner",
            relation_field="parent_id",
            readonly=True,
            store=False,
        ),
        FieldSpec("customer_rank", "integer", "Customer Rank"),
        FieldSpec("active", "boolean", "Active"),
        FieldSpec("comment", "html", "Notes"),
        FieldSpec("create_date", "datetime", "Created on", readonly=True),
        FieldSpec("write_date", "datetime", "Last Updated on", readonly=True),
    ),
)


def partner_rows(world: World) -> list[Row]:
    """One row per world customer, in the stored form (``None`` when empty, many2one as id)."""
    orders = Counter(order.customer_no for order in world.orders)
    rows: list[Row] = []
    for customer in world.customers:
        row: dict[str, Any] = {
            "id": customer.id,
            "name": customer.name,
            "is_company": customer.is_company,
            "email": customer.email,
            "phone": customer.phone,
            "street": customer.street,
            "city": customer.city,
            "zip": customer.zip,
            "country_id": country_id(customer.country_code),
            "vat": customer.vat,
            "ref": customer.ref,
            "user_id": customer.salesperson[0] if customer.salesperson else None,
            "parent_id": customer.parent_id,
            "customer_rank": orders[customer.ref],
            "active": True,
            "comment": None,
            "create_date": format_datetime(customer.created),
            "write_date": format_datetime(customer.updated),
        }
        rows.append(row)
    return rows
