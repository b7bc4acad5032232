"""Text ↔ value conversion for XSD simple types, with zeep's exact semantics.

Each simple type keeps zeep's own ``xmlvalue``/``pythonvalue`` as the conversion, so formatting
(``Decimal`` as ``{:f}``, booleans as ``true``/``false``, dates by ``strftime`` ...) and the
exceptions raised for unconvertible values are zeep's by construction. The compiler only adds
shortcuts where the result is provably the same and zeep's path is slow: a ``str`` for a string
type is itself, a canonical decimal or date goes straight to its constructor (zeep first runs a
regular expression over it to collapse whitespace). Anything a shortcut does not recognise falls
through to zeep's method.

A union is its members' common base class, as zeep reads and writes it. Not compiled: unions
without one, types whose element handling zeep overrides, and types whose text depends on
prefixes (``xsd:QName``, ``xsd:NOTATION``: a prefix means nothing once the prefixes change).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zeep.xsd.types import builtins as xsd_builtins
from zeep.xsd.types.collection import ListType, UnionType
from zeep.xsd.types.simple import AnySimpleType

__all__ = ["SimpleCodec", "simple_codec"]

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_PREFIXED = (xsd_builtins.QName, xsd_builtins.Notation)


@dataclass(frozen=True, slots=True)
class SimpleCodec:
    """How one simple type becomes element text and back."""

    to_text: Callable[[Any], Any]  # what zeep puts in ``node.text`` (str, or bytes for base64)
    #: zeep's ``pythonvalue`` (raising where it raises); None for string types: the text as is
    from_text: Callable[[str], Any] | None
    name: str


def simple_codec(type_: AnySimpleType) -> SimpleCodec:
    """The codec of ``type_``; raise ``ValueError`` naming the reason when it is not compiled."""
    if isinstance(type_, UnionType):  # zeep reads and writes a union as its members' base class
        if type_.item_class is None:
            raise ValueError("a union of unrelated simple types")
        return simple_codec(type_.item_class())
    cls = type(type_)
    if cls.parse_xmlelement is not AnySimpleType.parse_xmlelement:
        raise ValueError(f"simple type {cls.__name__} reads elements its own way")
    if cls.render not in (AnySimpleType.render, ListType.render):
        raise ValueError(f"simple type {cls.__name__} writes elements its own way")
    if isinstance(type_, _PREFIXED):
        raise ValueError(f"{cls.__name__} values depend on namespace prefixes")
    name = type_.qname.localname if type_.qname is not None else cls.__name__
    return SimpleCodec(_to_text(type_), _from_text(type_), name)


def _to_text(type_: AnySimpleType) -> Callable[[Any], Any]:
    xmlvalue: Callable[[Any], Any] = type_.xmlvalue
    method = type(type_).xmlvalue
    if method is xsd_builtins.Integer.xmlvalue:
        return str  # zeep's Integer.xmlvalue is str(value), for every value
    if method is xsd_builtins.String.xmlvalue:

        def string(value: Any) -> Any:
            return value if type(value) is str else xmlvalue(value)

        return string
    return xmlvalue


def _from_text(type_: AnySimpleType) -> Callable[[str], Any] | None:
    pythonvalue: Callable[[str], Any] = type_.pythonvalue
    method = type(type_).pythonvalue
    if method is xsd_builtins.String.pythonvalue:
        return None  # zeep's returns the text as it is
    if method in (xsd_builtins.Integer.pythonvalue, xsd_builtins.Long.pythonvalue):
        return int  # zeep's is int(value) too
    if method is xsd_builtins.Decimal.pythonvalue:
        return _fast(_DECIMAL, Decimal, pythonvalue)
    if method is xsd_builtins.Date.pythonvalue:
        return _fast(_DATE, _date, pythonvalue)
    if method is xsd_builtins.Boolean.pythonvalue:

        def boolean(text: str) -> Any:
            value = _BOOLEANS.get(text)
            return pythonvalue(text) if value is None else value

        return boolean
    return pythonvalue


def _date(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))


def _fast(
    pattern: re.Pattern[str], quick: Callable[[str], Any], slow: Callable[[str], Any]
) -> Callable[[str], Any]:
    """``quick`` for text in canonical form (where it equals zeep's result), else zeep's."""
    match = pattern.fullmatch

    def convert(text: str) -> Any:
        return quick(text) if match(text) else slow(text)

    return convert
