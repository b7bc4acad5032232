"""NAV filter criteria (the ``Criteria`` of a ReadMultiple filter) compiled into predicates.

The subset NAV users reach for: an exact value, ``A|B`` alternatives, ``A&B`` conjunctions,
``a..b`` ranges with either side open, ``<``, ``>``, ``<=``, ``>=``, ``<>`` and ``=``, ``*`` and
``?`` wildcards, an ``@`` prefix for case-insensitive text, ``''`` for an empty value, and
``'quoted'`` values for text holding ``|``, ``&``, ``..`` or wildcards. Each value is read by the
field's :class:`~sandbox.erp.fieldtypes.FieldType`, so dates compare as dates and decimals as
numbers. An unreadable value raises :class:`CriteriaError`, which the ERP turns into NAV's fault.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from sandbox.erp.fieldtypes import FieldType

__all__ = ["CriteriaError", "Predicate", "compile_criteria"]

Predicate = Callable[[Any], bool]

_COMPARISONS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("<>", operator.ne),
    ("<=", operator.le),
    (">=", operator.ge),
    ("<", operator.lt),
    (">", operator.gt),
    ("=", operator.eq),
)


class CriteriaError(ValueError):
    """Criteria text that does not read as a filter for the field's type."""


def compile_criteria(criteria: str, field_type: FieldType) -> Predicate:
    """Compile ``criteria`` into a predicate over a field's stored value."""
    text = criteria.strip()
    if not text:
        return _always
    alternatives = [
        [_term(part.strip(), field_type) for part in _split(alternative, "&")]
        for alternative in _split(text, "|")
    ]
    comparable = field_type.comparable

    def matches(value: Any) -> bool:
        value = comparable(value)
        return any(all(test(value) for test in terms) for terms in alternatives)

    return matches


def _always(value: Any) -> bool:
    return True


def _term(term: str, field_type: FieldType) -> Predicate:
    fold = term.startswith("@")
    if fold:
        term = term[1:]
        fold = field_type.textual  # NAV ignores @ on numbers, dates and options
    for symbol, compare in _COMPARISONS:
        if term.startswith(symbol):
            bound = _value(term[len(symbol) :], field_type, fold)
            return _compared(compare, bound, fold)
    low_high = _split(term, "..")
    if len(low_high) == 2:
        low, high = (part.strip() for part in low_high)
        tests = []
        if low:
            tests.append(_compared(operator.ge, _value(low, field_type, fold), fold))
        if high:
            tests.append(_compared(operator.le, _value(high, field_type, fold), fold))
        return lambda value: all(test(value) for test in tests)
    if len(low_high) > 2:
        raise CriteriaError(f"{term} is not a valid range")
    if field_type.textual and not _is_quoted(term) and ("*" in term or "?" in term):
        return _wildcard(term, fold)
    return _compared(operator.eq, _value(term, field_type, fold), fold)


def _compared(compare: Callable[[Any, Any], bool], bound: Any, fold: bool) -> Predicate:
    if fold:
        return lambda value: compare(value.casefold(), bound)
    return lambda value: compare(value, bound)


def _value(text: str, field_type: FieldType, fold: bool) -> Any:
    text = text.strip()
    literal = _unquote(text)
    if field_type.textual:
        return literal.casefold() if fold else literal
    try:
        return field_type.parse(literal)
    except ValueError:
        raise CriteriaError(f"{literal} is not a valid {field_type.name}") from None


def _wildcard(pattern: str, fold: bool) -> Predicate:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    compiled = re.compile(regex, re.DOTALL | (re.IGNORECASE if fold else 0))
    return lambda value: compiled.fullmatch(value) is not None


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == "'" and text[-1] == "'"


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'") if _is_quoted(text) else text


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside single quotes."""
    parts: list[str] = []
    quoted = False
    start = index = 0
    while index < len(text):
        if text[index] == "'":
            quoted = not quoted
        elif not quoted and text.startswith(separator, index):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(text[start:])
    return parts
