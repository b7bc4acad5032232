"""The ORM methods an RPC client may call on a model, bound to the calling user.

Parameter names and defaults are Odoo 17's, so positional ``args`` and keyword ``kwargs`` of an
``execute_kw`` call bind exactly as they do there; anything that does not bind is a TypeError
(fault 1). Methods not listed in :data:`RPC_METHODS` do not exist (AttributeError, fault 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.crm.definition import Row
from sandbox.crm.errors import ApplicationError
from sandbox.crm.models import Model
from sandbox.crm.registry import access_error
from sandbox.crm.users import CrmUser

__all__ = ["RPC_METHODS", "ModelMethods"]

RPC_METHODS = frozenset(
    {"search", "search_count", "read", "search_read", "create", "write", "unlink"}
    | {"fields_get", "name_search"}
)


class ModelMethods:
    """One model as one user sees it over RPC; ``context`` is the call's Odoo context."""

    def __init__(self, model: Model, user: CrmUser, context: Mapping[str, Any]) -> None:
        self._model = model
        self._user = user
        self._active_test = bool(context.get("active_test", True))

    def method(self, name: str) -> Callable[..., Any]:
        if name not in RPC_METHODS:
            raise ApplicationError(
                "AttributeError",
                f"The method '{name}' does not exist on the model '{self._model.name}'",
            )
        method: Callable[..., Any] = getattr(self, name)
        return method

    def search(
        self, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        return [row["id"] for row in self._search(domain, offset, limit, order)]

    def search_count(self, domain: Any, limit: Any = None) -> int:
        return len(self._search(domain, 0, limit, None))

    def read(
        self, ids: Any, fields: Any = None, load: Any = "_classic_read"
    ) -> list[dict[str, Any]]:
        names = self._field_names(fields)
        rows = (self._model.get(record_id) for record_id in _ids(ids))
        return [self._model.render(row, names) for row in rows if row is not None]

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
    ) -> list[dict[str, Any]]:
        names = self._field_names(fields)
        rows = self._search(domain or [], offset, limit, order)
        return [self._model.render(row, names) for row in rows]

    def create(self, vals_list: Any) -> int | list[int]:
        self._require_write("create")
        if isinstance(vals_list, dict):
            return self._model.create([vals_list], self._user.uid)[0]
        if isinstance(vals_list, list) and all(isinstance(vals, dict) for vals in vals_list):
            return self._model.create(vals_list, self._user.uid)
        raise ApplicationError(
            "TypeError", f"create() takes a dict or a list of dicts, got {vals_list!r}"
        )

    def write(self, ids: Any, vals: Any) -> bool:
        self._require_write("write")
        if not isinstance(vals, dict):
            raise ApplicationError(
                "AttributeError", f"{type(vals).__name__!r} object has no attribute 'items'"
            )
        record_ids = _ids(ids)
        if record_ids:
            self._model.write(record_ids, vals, self._user.uid)
        return True

    def unlink(self, ids: Any) -> bool:
        self._require_write("unlink")
        self._model.unlink(_ids(ids))
        return True

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
        wanted = set(allfields) if isinstance(allfields, list) and allfields else None
        keys = attributes if isinstance(attributes, list) and attributes else None
        return {
            spec.name: spec.describe(keys)
            for spec in self._model.fields.values()
            if wanted is None or spec.name in wanted
        }

    def name_search(
        self, name: Any = "", args: Any = None, operator: Any = "ilike", limit: Any = 100
    ) -> list[list[Any]]:
        domain = list(args or [])
        if name:
            leaves = [[field, operator, name] for field in self._model.definition.rec_names]
            domain = ["|"] * (len(leaves) - 1) + leaves + domain
        rows = self._search(domain, 0, limit, None)
        return [[row["id"], self._model.display_name(row["id"])] for row in rows]

    def _search(self, domain: Any, offset: Any, limit: Any, order: Any) -> list[Row]:
        return self._model.search(
            domain,
            offset=_whole(offset, "OFFSET") or 0,
            limit=_whole(limit, "LIMIT") or None,
            order=order or None,
            active_test=self._active_test,
        )

    def _field_names(self, fields: Any) -> list[str]:
        if not fields:
            return list(self._model.fields)
        if not isinstance(fields, list):
            raise ApplicationError(
                "TypeError", f"fields must be a list of field names, got {fields!r}"
            )
        return [self._model.field(name).name for name in fields]

    def _require_write(self, operation: str) -> None:
        if not (self._model.definition.writable and self._user.can_write):
            raise access_error(self._model.definition, operation)


def _ids(ids: Any) -> list[int]:
    """Record ids as Odoo's ``browse`` takes them: one id, a list of ids, or False for none."""
    if ids is False or ids is None:
        return []
    if isinstance(ids, int) and not isinstance(ids, bool):
        return [ids]
    if isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return list(ids)
    raise ApplicationError("ValueError", f"Invalid record ids {ids!r}")


def _whole(value: Any, clause: str) -> int | None:
    """An OFFSET or LIMIT as PostgreSQL takes it: anything that reads as a whole number."""
    if value is None or value is False:
        return None
    try:
        number = int(value) if not isinstance(value, float | bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        raise ApplicationError(
            "psycopg2.errors.InvalidTextRepresentation",
            f'invalid input syntax for type bigint: "{value}"',
        )
    if number < 0:
        error = f"InvalidRowCountIn{clause.title()}Clause"
        raise ApplicationError(f"psycopg2.errors.{error}", f"{clause} must not be negative")
    return number
