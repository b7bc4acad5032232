"""Odoo search domains and ``order`` clauses, evaluated in memory with Odoo's SQL semantics.

A domain is a list in Polish (prefix) notation: leaves ``[field, operator, value]`` combined by
``"&"`` (and), ``"|"`` (or) and ``"!"`` (not), with an implicit ``"&"`` between consecutive terms.
``["|", A, B, C]`` means ``(A or B) and C``. An empty domain matches everything.

What Odoo does in SQL, and so this module does too:

- ``= False`` means "is empty" (NULL, or a boolean that is false); ``!= False`` means "is set";
- every negative operator (``!=``, ``not in``, ``not like``, ``not ilike``) is the exact
  complement of its positive form, so it also matches empty values (Odoo adds ``OR x IS NULL``);
- ordering comparisons never match an empty value;
- ``like``/``ilike`` wrap the value in ``%...%``; ``=like``/``=ilike`` use it as the pattern, in
  which ``%`` and ``_`` are wildcards and ``\\`` escapes;
- a many2one (:class:`M2O`) compares by id to integers and by name to strings; an x2many (a list
  of ids) matches a positive leaf when any of its ids does, and ``= False`` when it is empty.

Orders follow PostgreSQL: ascending puts empty values last, descending puts them first, unless
``nulls first`` / ``nulls last`` says otherwise. Strings sort case-insensitively, like a
``en_US.UTF-8`` collation. Sorting is stable, so the caller's input order breaks ties.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "M2O",
    "OPERATORS",
    "DomainError",
    "OrderTerm",
    "Predicate",
    "compile_domain",
    "parse_order",
    "sort_records",
]

R = TypeVar("R")
Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]

OPERATORS = frozenset(
    {"=", "!=", ">", ">=", "<", "<=", "in", "not in", "like", "ilike", "not like", "not ilike"}
    | {"=like", "=ilike"}
)
_ALIASES = {"<>": "!=", "==": "="}
_NEGATIONS = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
_ORDERINGS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_TRUE_LEAF, _FALSE_LEAF = (1, "=", 1), (0, "=", 1)


class DomainError(ValueError):
    """A domain or order clause that Odoo would reject (the server answers with fault 1)."""


class M2O(NamedTuple):
    """A many2one value as a domain sees it."""

    id: int
    name: str


def compile_domain(domain: object, lookup: Callable[[str], Getter]) -> Predicate:
    """Turn a domain into a predicate over records.

    ``lookup(field)`` returns a getter that reads that field's value from a record, or raises
    :class:`DomainError` for a field the model does not have.
    """
    if not isinstance(domain, list | tuple):
        raise DomainError(f"Invalid domain {domain!r}: a domain is a list of terms")
    stack: list[Predicate] = []

    def pop() -> Predicate:
        if not stack:
            raise DomainError(f"This domain is syntactically not correct: {list(domain)!r}")
        return stack.pop()

    # Reading right to left turns prefix notation into a stack machine (as Odoo does).
    for token in reversed(domain):
        if token == "!":
            stack.append(_negate(pop()))
        elif token in ("&", "|"):
            first, second = pop(), pop()
            stack.append(_both(first, second) if token == "&" else _either(first, second))
        else:
            stack.append(_leaf(token, lookup))
    terms = list(reversed(stack))
    return lambda record: all(term(record) for term in terms)


def _negate(term: Predicate) -> Predicate:
    return lambda record: not term(record)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda record: first(record) and second(record)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda record: first(record) or second(record)


def _leaf(token: object, lookup: Callable[[str], Getter]) -> Predicate:
    if not isinstance(token, list | tuple) or len(token) != 3:
        raise DomainError(f"Invalid leaf {token!r}")
    left, op, right = token
    if not isinstance(op, str):
        raise DomainError(f"Invalid leaf {token!r}")
    op = _ALIASES.get(op.lower(), op.lower())
    if op not in OPERATORS:
        raise DomainError(f"Invalid operator {op!r} in domain term {tuple(token)!r}")
    if tuple(token) in (_TRUE_LEAF, _FALSE_LEAF):
        constant = left == 1
        return lambda record: constant
    if not isinstance(left, str):
        raise DomainError(f"Invalid leaf {token!r}")
    try:
        getter = lookup(left)
    except DomainError as exc:
        raise DomainError(f"{exc} in leaf {tuple(token)!r}") from None
    test = _positive_test(_NEGATIONS.get(op, op), right)
    if op in _NEGATIONS:
        return lambda record: not _matches(getter(record), test)
    return lambda record: _matches(getter(record), test)


def _matches(value: Any, test: Callable[[Any], bool]) -> bool:
    if isinstance(value, list):  # x2many: empty is "no value", otherwise any id may match
        return test(None) if not value else any(test(item) for item in value)
    return test(value)


def _is_empty(value: Any) -> bool:
    return value is None or value is False


def _positive_test(op: str, right: Any) -> Callable[[Any], bool]:
    if op == "=":
        if _is_empty(right):
            return _is_empty
        return lambda value: not _is_empty(value) and _equal(value, right)
    if op == "in":
        values = list(right) if isinstance(right, list | tuple) else [right]
        wants_empty = any(_is_empty(item) for item in values)
        others = [item for item in values if not _is_empty(item)]
        return lambda value: (
            wants_empty if _is_empty(value) else any(_equal(value, item) for item in others)
        )
    if op in _ORDERINGS:
        compare = _ORDERINGS[op]
        if _is_empty(right):
            return lambda value: False
        return lambda value: not _is_empty(value) and _compare(compare, value, right)
    pattern = str(right) if op.startswith("=") else f"%{right}%"
    regex = like_regex(pattern, ignore_case=op.endswith("ilike"))
    return lambda value: not _is_empty(value) and regex.fullmatch(_text(value)) is not None


def _side(value: Any, right: Any) -> Any:
    """The part of a many2one that ``right`` is compared with: its id or its name."""
    if isinstance(value, M2O):
        return value.name if isinstance(right, str) else value.id
    return value


def _equal(value: Any, right: Any) -> bool:
    return bool(_side(value, right) == right)


def _compare(compare: Callable[[Any, Any], bool], value: Any, right: Any) -> bool:
    left = _side(value, right)
    try:
        return compare(left, right)
    except TypeError:
        raise DomainError(f"cannot compare {left!r} with {right!r}") from None


def _text(value: Any) -> str:
    return value.name if isinstance(value, M2O) else str(value)


def like_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """Translate a SQL LIKE pattern (``%``, ``_``, ``\\`` escapes) into a regular expression."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One ``field [asc|desc] [nulls first|last]`` term of an ``order`` clause."""

    field: str
    descending: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default for the direction


_ORDER_TERM = re.compile(
    r'^\s*"?(?P<field>[a-z0-9_]+)"?(?:\s+(?P<direction>asc|desc))?'
    r"(?:\s+nulls\s+(?P<nulls>first|last))?\s*$",
    re.IGNORECASE,
)


def parse_order(order: object) -> list[OrderTerm]:
    """Parse ``"name asc, id desc"``; an empty order is an empty list."""
    if order is None or order is False or order == "":
        return []
    if not isinstance(order, str):
        raise DomainError(f"Invalid order {order!r}: an order is a string")
    terms: list[OrderTerm] = []
    for part in order.split(","):
        match = _ORDER_TERM.match(part)
        if match is None:
            raise DomainError(
                f'Invalid "order" specified ({order}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)"
            )
        nulls = match["nulls"]
        terms.append(
            OrderTerm(
                field=match["field"].lower(),
                descending=(match["direction"] or "asc").lower() == "desc",
                nulls_first=None if nulls is None else nulls.lower() == "first",
            )
        )
    return terms


def sort_records(
    records: Sequence[R], terms: Sequence[OrderTerm], sort_value: Callable[[str], Getter]
) -> list[R]:
    """Sort stably by the terms; ``sort_value(field)`` reads a comparable value or ``None``."""
    ordered = list(records)
    for term in reversed(terms):
        ordered.sort(key=_sort_key(term, sort_value(term.field)), reverse=term.descending)
    return ordered


def _sort_key(term: OrderTerm, get: Getter) -> Callable[[Any], tuple[int, Any]]:
    nulls_first = term.descending if term.nulls_first is None else term.nulls_first
    # With reverse=True the larger flag comes first, so the flag that puts empties first flips.
    null_flag = int(nulls_first == term.descending)

    def key(record: Any) -> tuple[int, Any]:
        value = get(record)
        if value is None:
            return (null_flag, 0)
        if isinstance(value, str):
            return (1 - null_flag, (value.casefold(), value))
        return (1 - null_flag, value)

    return key
