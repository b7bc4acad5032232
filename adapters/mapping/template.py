"""Mapping templates: build operation params from a request, and JSON from a result.

A template is plain YAML data in which some strings are references::

    request:                                   # params for SalesOrder.ReadMultiple
      filter:
        - when: query.status                   # included only if ?status= was given
          value: {Field: Status, Criteria: query.status}
      setSize: {from: query.limit, convert: int, default: 25}

    response:                                  # JSON for the client
      no: result.No
      total: {from: result.Amount, convert: decimal}
      lines:
        each: result.SalesLines.Sales_Order_Line
        map: {sku: item.No, quantity: {from: item.Quantity, convert: number}}

A string whose first dotted part is a root (``path``, ``query``, ``body``, ``header``,
``result``, or an ``each`` alias) is a reference; any other string is a literal, and
``{const: ...}`` makes anything literal. Dict forms: ``from`` (+ ``convert``, ``default``),
``when`` (+ ``value``), ``each`` (+ ``map``, ``as``). A missing value is left out of request
params and becomes ``null`` in responses, so clients always see the same shape.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.mapping.converters import ConversionError, Converter, bounded

__all__ = ["MISSING", "MappingError", "Template", "compile_template"]

MISSING: Any = type(
    "Missing", (), {"__repr__": lambda self: "<missing>", "__bool__": lambda self: False}
)()
REQUEST_ROOTS = frozenset({"path", "query", "body", "header", "auth"})
RESPONSE_ROOTS = frozenset({"result", "path", "query"})
_FORMS = {
    "from": {"from", "convert", "default", "lookup"},
    "when": {"when", "value"},
    "each": {"each", "map", "as"},
    "sum": {"sum", "of"},
}


@dataclass
class MappingError(ValueError):
    """Problems found compiling a template: (path inside the template, message) pairs."""

    problems: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(map(str, p)) or '(template)'}: {m}" for p, m in self.problems)


Node = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Template:
    """A compiled template; ``render(scope)`` is cheap (no parsing at request time)."""

    spec: Any
    _node: Node
    references: frozenset[str]

    def render(self, scope: Mapping[str, Any]) -> Any:
        value = self._node(scope)
        return None if value is MISSING else value


def compile_template(
    spec: Any,
    *,
    roots: frozenset[str],
    converters: Mapping[str, Converter],
    missing_as_null: bool,
) -> Template:
    """Compile ``spec``; raise :class:`MappingError` listing every problem in it."""
    compiler = _Compiler(converters, missing_as_null)
    node = compiler.node(spec, (), roots)
    if compiler.problems:
        raise MappingError(compiler.problems)
    return Template(spec, node, frozenset(compiler.references))


class _Compiler:
    def __init__(self, converters: Mapping[str, Converter], missing_as_null: bool) -> None:
        self.converters = converters
        self.missing_as_null = missing_as_null
        self.problems: list[tuple[tuple[str | int, ...], str]] = []
        self.references: set[str] = set()

    def problem(self, where: tuple[str | int, ...], message: str) -> Node:
        self.problems.append((where, message))
        return lambda scope: MISSING

    def node(self, spec: Any, where: tuple[str | int, ...], roots: frozenset[str]) -> Node:
        if isinstance(spec, str):
            if _is_reference(spec, roots):
                return self.reference(spec, where, roots)
            meant = _near_miss(spec, roots)
            if meant:
                return self.problem(
                    where,
                    f"{spec!r} looks like a reference with a mistyped root "
                    f"(did you mean {meant!r}?); write {{const: ...}} for a literal",
                )
            return _const(spec)
        if isinstance(spec, Mapping):
            return self.mapping(spec, where, roots)
        if isinstance(spec, Sequence):
            return self.sequence(spec, where, roots)
        return _const(spec)

    def reference(self, text: str, where: tuple[str | int, ...], roots: frozenset[str]) -> Node:
        root, *parts = text.split(".")
        if any(part == "" for part in parts):
            return self.problem(where, f"empty segment in reference {text!r}")
        self.references.add(text)
        keys: tuple[str | int, ...] = tuple(int(p) if p.isdigit() else p for p in parts)
        # A mapping is looked up by the segment's text, a list by its number. Decoded replies
        # and scopes are plain dicts: ``type(...) is dict`` spares them the ABC check
        # (``isinstance(x, Mapping)`` was a third of a large order's mapping).
        steps = tuple((str(key), key) for key in keys)

        def step(value: Any, name: str, key: str | int) -> Any:
            if isinstance(value, Mapping):
                return value.get(name, MISSING)
            if isinstance(value, list | tuple) and isinstance(key, int):
                return value[key] if -len(value) <= key < len(value) else MISSING
            return MISSING

        if len(steps) == 1:  # result.No, item.Quantity: most references
            ((only, only_key),) = steps

            def lookup_one(scope: Mapping[str, Any]) -> Any:
                value = scope.get(root, MISSING)
                if type(value) is dict:
                    return value.get(only, MISSING)
                return MISSING if value is MISSING else step(value, only, only_key)

            return lookup_one

        def lookup(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root, MISSING)
            for name, key in steps:
                if value is MISSING:
                    return MISSING
                value = value.get(name, MISSING) if type(value) is dict else step(value, name, key)
            return value

        return lookup

    def mapping(
        self, spec: Mapping[str, Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        if "const" in spec and len(spec) == 1:
            return _const(spec["const"])
        for form, allowed in _FORMS.items():
            if form in spec:
                extra = set(spec) - allowed
                if extra:
                    return self.problem(
                        where,
                        f"unexpected key(s) {sorted(extra)} in a {form!r} form; "
                        f"allowed: {', '.join(sorted(allowed))}",
                    )
                return getattr(self, f"form_{form}")(spec, where, roots)
        items = {str(k): self.node(v, (*where, str(k)), roots) for k, v in spec.items()}
        keep_missing = self.missing_as_null

        def build(scope: Mapping[str, Any]) -> Any:
            out: dict[str, Any] = {}
            for key, child in items.items():
                value = child(scope)
                if value is not MISSING:
                    out[key] = value
                elif keep_missing:
                    out[key] = None
            return out

        return build

    def sequence(
        self, spec: Sequence[Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        items = [self.node(v, (*where, i), roots) for i, v in enumerate(spec)]
        return lambda scope: [v for v in (child(scope) for child in items) if v is not MISSING]

    def form_from(
        self, spec: Mapping[str, Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        source = spec["from"]
        if not isinstance(source, str) or not _is_reference(source, roots):
            return self.problem(
                (*where, "from"), f"'from' needs a reference such as query.limit, got {source!r}"
            )
        get = self.reference(source, (*where, "from"), roots)
        chain = self.converter_chain(spec.get("convert"), (*where, "convert"))
        has_default, default = "default" in spec, spec.get("default")
        table = spec.get("lookup")
        if table is not None and not isinstance(table, Mapping):
            return self.problem(
                (*where, "lookup"), "'lookup' needs a mapping of value → replacement"
            )
        lookup = {str(k): v for k, v in table.items()} if table is not None else None

        def convert(scope: Mapping[str, Any]) -> Any:
            value = get(scope)
            if value is MISSING or value is None:
                return default if has_default else value
            for name, fn in chain:
                try:
                    value = fn(value)
                except ConversionError as exc:
                    raise ConversionError(f"{source}: {name}: {exc}") from exc
            if lookup is not None:
                return lookup.get(str(value), default)
            return value

        return convert

    def form_when(
        self, spec: Mapping[str, Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        condition = spec["when"]
        if not isinstance(condition, str) or not _is_reference(condition, roots):
            return self.problem((*where, "when"), f"'when' needs a reference, got {condition!r}")
        test = self.reference(condition, (*where, "when"), roots)
        value = self.node(spec.get("value"), (*where, "value"), roots)
        return lambda scope: value(scope) if test(scope) not in (MISSING, None, "") else MISSING

    def form_each(
        self, spec: Mapping[str, Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        source, alias = spec["each"], spec.get("as", "item")
        if not isinstance(source, str) or not _is_reference(source, roots):
            return self.problem(
                (*where, "each"), f"'each' needs a reference to a list, got {source!r}"
            )
        if not isinstance(alias, str) or not alias.isidentifier():
            return self.problem((*where, "as"), f"'as' needs a simple name, got {alias!r}")
        items = self.reference(source, (*where, "each"), roots)
        body = self.node(spec.get("map", f"{alias}"), (*where, "map"), roots | {alias})

        def each(scope: Mapping[str, Any]) -> Any:
            found = items(scope)
            if found is MISSING or found is None or found is False:
                return []
            rows = (
                found if isinstance(found, list | tuple) else [found]
            )  # SOAP: one element, no list
            return [body({**scope, alias: row}) for row in rows]

        return each

    def form_sum(
        self, spec: Mapping[str, Any], where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Node:
        """``{sum: result.rows, of: qty}``: the total of a numeric field over a list (null when none)."""
        source, field_path = spec["sum"], spec.get("of")
        if not isinstance(source, str) or not _is_reference(source, roots):
            return self.problem(
                (*where, "sum"), f"'sum' needs a reference to a list, got {source!r}"
            )
        if not isinstance(field_path, str) or not field_path:
            return self.problem((*where, "of"), "'of' names the field to add up, e.g. QtyOnHand")
        rows = self.reference(source, (*where, "sum"), roots)
        keys = field_path.split(".")

        def total(scope: Mapping[str, Any]) -> Any:
            found = rows(scope)
            if found is MISSING or found is None:
                return MISSING
            amounts = []
            for row in found if isinstance(found, list | tuple) else [found]:
                value: Any = row
                for key in keys:
                    value = value.get(key) if isinstance(value, Mapping) else None
                if value is not None:
                    amounts.append(_addend(value, source, field_path))
            return _total(amounts)

        return total

    def converter_chain(
        self, names: Any, where: tuple[str | int, ...]
    ) -> list[tuple[str, Converter]]:
        if names is None:
            return []
        listed = [names] if isinstance(names, str) else names
        chain: list[tuple[str, Converter]] = []
        for i, name in enumerate(listed if isinstance(listed, list) else [listed]):
            if not isinstance(name, str) or name not in self.converters:
                close = difflib.get_close_matches(str(name), self.converters, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(
                    where if isinstance(names, str) else (*where, i),
                    f"unknown converter {name!r}{hint}; known: {', '.join(sorted(self.converters))}",
                )
                continue
            chain.append((name, self.converters[name]))
        return chain


def _addend(value: Any, source: str, field_path: str) -> int | float | Decimal:
    """A number to add up: JSON's and XML-RPC's ints and floats, SOAP's decimals, or the text of
    a number (payloads in XML carry numbers as text)."""
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    if isinstance(value, Decimal | str):
        try:
            return bounded(Decimal(value), value)
        except (InvalidOperation, ConversionError):
            pass
    raise ConversionError(f"{source}: {field_path} is not a number: {str(value)[:40]!r}")


def _total(amounts: list[int | float | Decimal]) -> int | float | Decimal:
    """Their sum, as a JSON number: exact when any is a decimal, and whole when it is whole."""
    if not any(isinstance(amount, Decimal) for amount in amounts):
        return sum(amounts)
    exact = sum(
        (Decimal(str(a)) if isinstance(a, float) else Decimal(a) for a in amounts), Decimal(0)
    )
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _is_reference(text: str, roots: frozenset[str]) -> bool:
    return text.split(".", 1)[0] in roots


def _near_miss(text: str, roots: frozenset[str]) -> str | None:
    """A literal that looks like a mistyped reference (``qeury.status``): the root it meant."""
    head, dot, _ = text.partition(".")
    if not dot or not head.isidentifier():
        return None
    close = difflib.get_close_matches(head, sorted(roots), n=1, cutoff=0.75)
    return close[0] if close else None


def _const(value: Any) -> Node:
    return lambda scope: value
