"""The small models many2one fields point at: ``res.country``, ``crm.stage`` and ``res.users``.

Countries and stages are readable over RPC (clients need their ids to write many2one fields) and
read-only. ``res.users`` exists only to name salespeople: any RPC call on it is an access error,
as it is for a user without the *Access Rights* group.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.crm.definition import ModelDef, Row
from sandbox.crm.fields import FieldSpec
from sandbox.dataset import World

__all__ = ["COUNTRY", "STAGE", "USERS", "country_id", "country_rows", "stage_rows", "user_rows"]

# Odoo's own res.country ids (from base/data/res_country_data.xml, in every database).
_COUNTRIES = {
    "CA": (38, "Canada"),
    "DE": (57, "Germany"),
    "DK": (58, "Denmark"),
    "FR": (75, "France"),
    "GB": (231, "United Kingdom"),
    "NL": (165, "Netherlands"),
    "US": (233, "United States"),
}
# The stages a new Odoo CRM database starts with.
_STAGES = {1: "New", 2: "Qualified", 3: "Proposition", 4: "Won"}


def country_id(code: str) -> int:
    try:
        return _COUNTRIES[code][0]
    except KeyError:
        raise ValueError(f"the CRM sandbox knows no res.country id for country {code!r}") from None


COUNTRY = ModelDef(
    name="res.country",
    description="Country",
    order="name",
    writable=False,
    fields=(
        FieldSpec("id", "integer", "ID", readonly=True),
        FieldSpec("name", "char", "Country Name", required=True),
        FieldSpec("code", "char", "Country Code"),
        FieldSpec("display_name", "char", "Display Name", readonly=True, store=False),
    ),
    computed={"display_name": lambda row, rows: row["name"]},
)

STAGE = ModelDef(
    name="crm.stage",
    description="CRM Stages",
    order="sequence, name, id",
    writable=False,
    write_groups=("Sales/Administrator",),
    fields=(
        FieldSpec("id", "integer", "ID", readonly=True),
        FieldSpec("name", "char", "Stage Name", required=True),
        FieldSpec("sequence", "integer", "Sequence"),
        FieldSpec("is_won", "boolean", "Is Won Stage?"),
        FieldSpec("display_name", "char", "Display Name", readonly=True, store=False),
    ),
    computed={"display_name": lambda row, rows: row["name"]},
)

USERS = ModelDef(
    name="res.users",
    description="User",
    order="name, login",
    writable=False,
    rpc_visible=False,
    write_groups=("Administration/Access Rights",),
    fields=(
        FieldSpec("id", "integer", "ID", readonly=True),
        FieldSpec("name", "char", "Name", required=True),
        FieldSpec("login", "char", "Login", required=True),
        FieldSpec("display_name", "char", "Display Name", readonly=True, store=False),
    ),
    computed={"display_name": lambda row, rows: row["name"]},
)


def country_rows() -> list[Row]:
    return [{"id": cid, "name": name, "code": code} for code, (cid, name) in _COUNTRIES.items()]


def stage_rows(world: World) -> list[Row]:
    stages = dict(_STAGES) | dict(lead.stage for lead in world.leads)
    return [
        {"id": sid, "name": name, "sequence": sid, "is_won": name == "Won"}
        for sid, name in sorted(stages.items())
    ]


def user_rows(world: World, users: Iterable[tuple[int, str, str]]) -> list[Row]:
    """Salespeople named in the world, plus the users who can log in: ``(uid, login, name)``."""
    names: dict[int, Row] = {}
    salespeople = [c.salesperson for c in world.customers] + [le.salesperson for le in world.leads]
    for salesperson in salespeople:
        if salesperson:
            uid, name = salesperson
            names[uid] = {"id": uid, "name": name, "login": name.split()[0].lower()}
    for uid, login, name in users:
        names[uid] = {"id": uid, "name": name, "login": login}
    return [names[uid] for uid in sorted(names)]
