"""The kinds of field a NAV page exposes, and how each reads a value written as text.

Filter criteria and Create/Update requests both arrive as text; a field's type says how to turn
that text into something comparable (``Decimal``, ``date``, an option's ordinal) and how to bring
the stored value to the same form, so ``Amount`` filters compare as numbers, ``Order_Date`` as
dates and ``Status`` ranges follow the option order, as they do in NAV.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["BOOLEAN", "DATE", "DECIMAL", "INTEGER", "TEXT", "FieldType", "option_type"]


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class FieldType:
    """How one kind of field parses text (``parse`` raises ValueError) and compares values."""

    name: str  # as NAV words it in "abc is not a valid date."
    parse: Callable[[str], Any]
    comparable: Callable[[Any], Any] = field(default=_identity)  # stored value → parse()'s form
    textual: bool = False  # wildcards and @ apply


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _parse_integer(text: str) -> int:
    return int(text.strip())


def _parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def _parse_boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"yes", "true", "1"}:
        return True
    if lowered in {"no", "false", "0"}:
        return False
    raise ValueError(text)


def _text_or_blank(value: Any) -> str:
    return "" if value is None else str(value)


TEXT = FieldType("text", str, comparable=_text_or_blank, textual=True)
DECIMAL = FieldType("decimal", _parse_decimal)
INTEGER = FieldType("integer", _parse_integer)
DATE = FieldType("date", _parse_date)
BOOLEAN = FieldType("boolean", _parse_boolean)


def option_type(*names: str) -> FieldType:
    """An option field (NAV's enum): values are names, order is the declared order."""
    ordinals = {name.lower(): index for index, name in enumerate(names)}

    def parse(text: str) -> int:
        try:
            return ordinals[text.strip().lower()]
        except KeyError:
            raise ValueError(text) from None

    def comparable(value: Any) -> int:
        return ordinals[str(value).lower()]

    return FieldType("option", parse, comparable=comparable)
