"""Odoo field definitions: what ``fields_get`` describes, and how written values are stored.

Stored values are plain Python (``None`` when empty, a many2one as the bare id); the Odoo read
format (``False``, ``[id, name]`` pairs) is produced only when records are rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sandbox.crm.errors import ApplicationError

__all__ = ["DATETIME_FORMAT", "FieldSpec", "coerce", "format_datetime", "strip_control"]

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

# 0 to 31 except tab, newline and carriage return: XML 1.0 cannot carry them.
_CONTROL_CHARACTERS = dict.fromkeys(set(range(32)) - {9, 10, 13})
_TEXT_TYPES = frozenset({"char", "text", "html"})
_RELATIONAL_TYPES = frozenset({"many2one", "one2many", "many2many"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a model, as Odoo's ``fields_get`` describes it."""

    name: str
    type: str  # Odoo's field type: char, boolean, integer, monetary, many2one, selection, ...
    string: str  # the label
    required: bool = False
    readonly: bool = False
    relation: str | None = None  # the comodel of a relational field
    relation_field: str | None = None  # the inverse many2one of a one2many
    selection: tuple[tuple[str, str], ...] = ()
    store: bool = True
    help: str | None = None

    def describe(self, attributes: list[str] | None = None) -> dict[str, Any]:
        """The field's ``fields_get`` entry, restricted to ``attributes`` when given."""
        description: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "string": self.string,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
            "sortable": self.store,
            "searchable": True,
        }
        if self.help:
            description["help"] = self.help
        if self.type in _RELATIONAL_TYPES:
            description["relation"] = self.relation
        if self.relation_field:
            description["relation_field"] = self.relation_field
        if self.type == "selection":
            description["selection"] = [list(pair) for pair in self.selection]
        if attributes:
            return {key: value for key, value in description.items() if key in attributes}
        return description


def strip_control(text: str) -> str:
    return text.translate(_CONTROL_CHARACTERS)


def format_datetime(moment: datetime) -> str:
    """Odoo's datetime wire format: UTC, no zone marker."""
    return moment.strftime(DATETIME_FORMAT)


def coerce(model: str, spec: FieldSpec, value: Any) -> Any:
    """Convert a value written over RPC into its stored form, as Odoo's ORM would.

    Empty strings and ``False`` are stored as empty (read back as ``False``). A value of the
    wrong shape is Odoo's ``ValueError: Wrong value for model.field: ...`` (fault 1).
    """
    try:
        return _coerce(spec, value)
    except (TypeError, ValueError):
        raise ApplicationError(
            "ValueError", f"Wrong value for {model}.{spec.name}: {value!r}"
        ) from None


def _coerce(spec: FieldSpec, value: Any) -> Any:
    kind = spec.type
    if kind == "boolean":
        return bool(value)
    if kind == "integer":
        return _number(value, int)
    if kind in ("float", "monetary"):
        return float(_number(value, float))
    if value is False or value is None or value == "":
        return None
    if kind in _TEXT_TYPES:
        if isinstance(value, list | dict | bytes):
            raise TypeError(value)
        return strip_control(str(value))
    if kind == "selection":
        if value not in {key for key, _ in spec.selection}:
            raise ValueError(value)
        return value
    if kind == "many2one":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return value
    if kind == "date":
        return date.fromisoformat(str(value)[:10]).isoformat()
    if kind == "datetime":
        text = str(value)
        moment = datetime.strptime(text, DATETIME_FORMAT if len(text) > 10 else DATE_FORMAT)
        return format_datetime(moment)
    raise TypeError(value)


def _number(value: Any, kind: type[int] | type[float]) -> int | float:
    if value is False or value is None:
        return kind(0)
    return kind(value)
