"""Odoo operations: ``<model>.<method>`` names, and params turned into ``execute_kw`` arguments.

An operation is a model and an ORM method, split at the last dot: ``res.partner.search_read``,
``crm.lead.write``. Its params take one of two shapes:

- **raw**: ``{"args": [...], "kwargs": {...}}`` (either key may be left out), sent as they are;
  this reaches any method, including a model's own (``crm.lead.action_set_won``);
- **named**, for the standard methods below: each param goes where Odoo expects it,
  positionally or as a keyword, and a param that is absent or None is not sent (so Odoo's
  default applies). Every method also takes ``context`` (a mapping, sent as a keyword).

=============  ============================  ====================================  =========
method         positional (default)          keywords                              read-only
=============  ============================  ====================================  =========
search_read    domain ([])                   fields, offset, limit, order          yes
read           ids (required)                fields                                yes
search         domain ([])                   offset, limit, order                  yes
search_count   domain ([])                   limit                                 yes
fields_get                                   allfields, attributes                 yes
name_search    name (""), domain ([]),                                             yes
               operator ("ilike"), limit (100)
create         vals (required)                                                     no
write          ids (required), vals (req.)                                         no
unlink         ids (required)                                                      no
=============  ============================  ====================================  =========

``name_search`` is sent positionally because Odoo renamed its ``args`` keyword to ``domain``.
Ids, offsets and limits may be digit strings (``"7"``, as path and query params arrive); they are
sent as integers. Anything else of the wrong type is refused before sending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.errors import InvalidRequest

__all__ = ["METHODS", "OrmMethod", "execute_kw_arguments", "split_operation"]


@dataclass(frozen=True, slots=True)
class OrmMethod:
    """How one standard ORM method takes its named params."""

    positional: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    read_only: bool = True

    @property
    def params(self) -> tuple[str, ...]:
        return (*self.positional, *self.keywords, "context")


_PAGE = ("offset", "limit", "order")
METHODS: Mapping[str, OrmMethod] = {
    "search_read": OrmMethod(("domain",), ("fields", *_PAGE), defaults={"domain": ()}),
    "read": OrmMethod(("ids",), ("fields",), required=("ids",)),
    "search": OrmMethod(("domain",), _PAGE, defaults={"domain": ()}),
    "search_count": OrmMethod(("domain",), ("limit",), defaults={"domain": ()}),
    "fields_get": OrmMethod((), ("allfields", "attributes")),
    "name_search": OrmMethod(
        ("name", "domain", "operator", "limit"),
        defaults={"name": "", "domain": (), "operator": "ilike", "limit": 100},
    ),
    "create": OrmMethod(("vals",), required=("vals",), read_only=False),
    "write": OrmMethod(("ids", "vals"), required=("ids", "vals"), read_only=False),
    "unlink": OrmMethod(("ids",), required=("ids",), read_only=False),
}


def split_operation(operation: str) -> tuple[str, str]:
    """``res.partner.search_read`` → (``res.partner``, ``search_read``)."""
    model, _, method = operation.rpartition(".")
    if not model or not method:
        raise InvalidRequest(f"operation {operation!r} is not <model>.<method>")
    if method.startswith("_"):
        raise InvalidRequest(f"private method {method!r} cannot be called remotely")
    return model, method


def execute_kw_arguments(
    method: str, params: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The ``args`` and ``kwargs`` of ``execute_kw`` for ``method`` called with ``params``."""
    if "args" in params or "kwargs" in params:
        return _raw(params)
    spec = METHODS.get(method)
    if spec is None:
        if params:
            raise InvalidRequest(
                f"{method} takes no named params; pass {{'args': [...], 'kwargs': {{...}}}}"
            )
        return [], {}
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InvalidRequest(
            f"unknown param(s) {', '.join(unknown)} for {method}; it takes "
            + ", ".join(spec.params)
        )
    given = {
        name: _whole_numbers(name, value) for name, value in params.items() if value is not None
    }
    missing = [name for name in spec.required if name not in given]
    if missing:
        raise InvalidRequest(f"{method} needs {', '.join(missing)}")
    for name, value in given.items():
        check = _CHECKS.get(name)
        if check is not None and not check(value):
            raise InvalidRequest(f"{method}: {name} must be {_EXPECTED[name]}")
    args = [given[name] if name in given else spec.defaults[name] for name in spec.positional]
    kwargs = {name: given[name] for name in (*spec.keywords, "context") if name in given}
    return args, kwargs


def _whole_numbers(name: str, value: Any) -> Any:
    """Ids, offsets and limits given as digit strings (path and query params are text) as ints."""
    if name not in ("ids", "offset", "limit"):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if name == "ids" and _is_list(value):
        return [int(item) if isinstance(item, str) and item.isdigit() else item for item in value]
    return value


def _raw(params: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    extra = sorted(set(params) - {"args", "kwargs"})
    if extra:
        raise InvalidRequest(f"with args/kwargs, no other params are allowed: {', '.join(extra)}")
    args = params.get("args") or []
    kwargs = params.get("kwargs") or {}
    if not isinstance(args, list | tuple):
        raise InvalidRequest("args must be a list")
    if not (isinstance(kwargs, Mapping) and all(isinstance(key, str) for key in kwargs)):
        raise InvalidRequest("kwargs must be a mapping of names to values")
    return list(args), dict(kwargs)


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_id(value) and value >= 0


def _is_names(value: Any) -> bool:
    return _is_list(value) and all(isinstance(name, str) for name in value)


def _is_ids(value: Any) -> bool:
    return _is_id(value) or (_is_list(value) and all(_is_id(item) for item in value))


def _is_vals(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        _is_list(value) and all(isinstance(item, Mapping) for item in value)
    )


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "domain": _is_list,
    "ids": _is_ids,
    "fields": _is_names,
    "allfields": _is_names,
    "attributes": _is_names,
    "offset": _is_count,
    "limit": _is_count,
    "order": lambda value: isinstance(value, str),
    "name": lambda value: isinstance(value, str),
    "operator": lambda value: isinstance(value, str),
    "vals": _is_vals,
    "context": lambda value: isinstance(value, Mapping),
}
_EXPECTED = {
    "domain": "a list of conditions",
    "ids": "a record id or a list of ids",
    "fields": "a list of field names",
    "allfields": "a list of field names",
    "attributes": "a list of attribute names",
    "offset": "a whole number ≥ 0",
    "limit": "a whole number ≥ 0",
    "order": "a string such as 'name asc, id desc'",
    "name": "a string",
    "operator": "a string such as 'ilike'",
    "vals": "a mapping of field values (create: or a list of them)",
    "context": "a mapping",
}
