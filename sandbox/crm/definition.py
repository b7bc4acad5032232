"""What a sandbox model is: its fields, default order, defaults, computed fields and constraints.

Each model module (``partner``, ``lead``, ``lookups``) declares one :class:`ModelDef` per Odoo
model plus the rows it starts with; :mod:`sandbox.crm.models` runs them all the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.crm.fields import FieldSpec

__all__ = ["Constraint", "ModelDef", "Row", "RowSource"]

Row = dict[str, Any]


class RowSource(Protocol):
    """The read side of a model's store, as computed fields see it."""

    def get(self, record_id: int) -> Row | None: ...

    def rows(self) -> Iterable[Row]: ...


@dataclass(frozen=True, slots=True)
class Constraint:
    """An SQL constraint: rows failing ``check`` are refused with Odoo's ValidationError."""

    name: str  # the constraint's name in PostgreSQL, e.g. res_partner_check_name
    message: str
    check: Callable[[Row], bool]


@dataclass(frozen=True)
class ModelDef:
    """One Odoo model as the sandbox serves it."""

    name: str  # e.g. res.partner
    description: str  # Odoo's _description, used in access errors, e.g. Contact
    fields: tuple[FieldSpec, ...]
    order: str  # Odoo's _order: the order of searches that give none
    rec_names: tuple[str, ...] = ("name",)  # the fields name_search looks in
    defaults: Callable[[int], Row] = lambda uid: {}  # default values for a create by ``uid``
    computed: Mapping[str, Callable[[Row, RowSource], Any]] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    writable: bool = True  # False: every create/write/unlink is an access error
    rpc_visible: bool = True  # False: every call on it is an access error
    write_groups: tuple[str, ...] = ("Administration/Settings",)  # named in access errors
