"""The CRM's one database: every model, linked so that many2one fields resolve.

Built from the shared world at construction (the world itself is never mutated).
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.crm.definition import ModelDef, Row
from sandbox.crm.errors import AccessError, UserError
from sandbox.crm.lead import LEAD, lead_rows
from sandbox.crm.lookups import COUNTRY, STAGE, USERS, country_rows, stage_rows, user_rows
from sandbox.crm.models import Clock, Model
from sandbox.crm.partner import PARTNER, partner_rows
from sandbox.crm.users import CrmUser
from sandbox.dataset import World

__all__ = ["Registry", "access_error"]


class Registry:
    """Every model of the sandbox database, by Odoo model name."""

    def __init__(self, world: World, users: Iterable[CrmUser], clock: Clock) -> None:
        self.models: dict[str, Model] = {}
        seeds: tuple[tuple[ModelDef, list[Row]], ...] = (
            (PARTNER, partner_rows(world)),
            (LEAD, lead_rows(world)),
            (STAGE, stage_rows(world)),
            (COUNTRY, country_rows()),
            (USERS, user_rows(world, ((user.uid, user.login, user.name) for user in users))),
        )
        for definition, rows in seeds:
            self.models[definition.name] = Model(definition, rows, self.models, clock)

    def for_rpc(self, name: object) -> Model:
        """The model an RPC call names; Odoo 17 answers an unknown one with a UserError."""
        model = self.models.get(name) if isinstance(name, str) else None
        if model is None:
            raise UserError(f"Object {name} doesn't exist")
        if not model.definition.rpc_visible:
            raise access_error(model.definition, "read")
        return model


_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}


def access_error(definition: ModelDef, operation: str) -> AccessError:
    """Odoo's access-rights error for ``operation`` (read, write, create, unlink) on a model."""
    groups = "\n".join(f"\t- {group}" for group in definition.write_groups)
    return AccessError(
        f"You are not allowed to {_VERBS[operation]} '{definition.description}' "
        f"({definition.name}) records.\n\n"
        f"This operation is allowed for the following groups:\n{groups}\n\n"
        "Contact your administrator to request access if necessary."
    )
