"""``crm.lead``: leads and opportunities, seeded from the world's leads.

Odoo orders them ``priority desc, id desc``. The world has no priority, so the sandbox derives
one from the expected revenue (``"2"`` from 30,000, ``"1"`` from 15,000, else ``"0"``).
"""

from __future__ import annotations

from sandbox.crm.definition import ModelDef, Row
from sandbox.crm.fields import FieldSpec, format_datetime
from sandbox.dataset import World

__all__ = ["LEAD", "lead_rows"]

_PRIORITIES = (("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High"))


def _defaults(uid: int) -> Row:
    return {
        "type": "lead",
        "stage_id": 1,
        "probability": 10.0,
        "expected_revenue": 0.0,
        "priority": "0",
        "user_id": uid,
        "active": True,
    }


LEAD = ModelDef(
    name="crm.lead",
    description="Lead/Opportunity",
    order="priority desc, id desc",
    defaults=_defaults,
    computed={"display_name": lambda row, rows: row.get("name")},
    write_groups=("Sales/User: Own Documents Only",),
    fields=(
        FieldSpec("id", "integer", "ID", readonly=True),
        FieldSpec("name", "char", "Opportunity", required=True),
        FieldSpec("display_name", "char", "Display Name", readonly=True, store=False),
        FieldSpec("partner_id", "many2one", "Customer", relation="res.partner"),
        FieldSpec("contact_name", "char", "Contact Name"),
        FieldSpec("email_from", "char", "Email"),
        FieldSpec("stage_id", "many2one", "Stage", relation="crm.stage"),
        FieldSpec("expected_revenue", "monetary", "Expected Revenue"),
        FieldSpec("probability", "float", "Probability"),
        FieldSpec(
            "type",
            "selection",
            "Type",
            required=True,
            selection=(("lead", "Lead"), ("opportunity", "Opportunity")),
        ),
        FieldSpec("priority", "selection", "Priority", selection=_PRIORITIES),
        FieldSpec("user_id", "many2one", "Salesperson", relation="res.users"),
        FieldSpec("date_deadline", "date", "Expected Closing"),
        FieldSpec("active", "boolean", "Active"),
        FieldSpec("create_date", "datetime", "Created on", readonly=True),
        FieldSpec("write_date", "datetime", "Last Updated on", readonly=True),
    ),
)


def _priority(expected_revenue: float) -> str:
    if expected_revenue >= 30000:
        return "2"
    return "1" if expected_revenue >= 15000 else "0"


def lead_rows(world: World) -> list[Row]:
    """One row per world lead, in the stored form (``None`` when empty, many2one as id)."""
    return [
        {
            "id": lead.id,
            "name": lead.name,
            "partner_id": lead.partner_id,
            "contact_name": lead.contact_name,
            "email_from": lead.email,
            "stage_id": lead.stage[0],
            "expected_revenue": lead.expected_revenue,
            "probability": lead.probability,
            "type": lead.kind,
            "priority": _priority(lead.expected_revenue),
            "user_id": lead.salesperson[0] if lead.salesperson else None,
            "date_deadline": lead.deadline.isoformat() if lead.deadline else None,
            "active": True,
            "create_date": format_datetime(lead.created),
            "write_date": format_datetime(lead.created),
        }
        for lead in world.leads
    ]
