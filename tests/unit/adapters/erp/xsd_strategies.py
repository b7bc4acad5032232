"""Hypothesis strategies for values of zeep's XSD types, and mutations of params and replies.

Values are drawn from zeep's own schema objects (not from the compiled model the tests check), in
the plain data the adapter takes: dicts, lists and scalars. Optional fields are drawn a few at a
time and nesting is capped, so FedEx- or Salesforce-sized types stay small. The mutations turn a
valid value or reply into the unusual cases: missing, junk, unknown or misplaced content.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st
from lxml import etree
from zeep.xsd.types import ComplexType
from zeep.xsd.types import builtins as b
from zeep.xsd.types.collection import ListType, UnionType

__all__ = ["junk", "mutate_params", "mutate_reply", "value_of", "xml_text"]

MAX_DEPTH = 3
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_INVALID_XML = "".join(map(chr, [*range(9), 11, 12, *range(14, 32)])) + "\ufffe\uffff"

xml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters=_INVALID_XML)
    | st.sampled_from(["&", "<", ">", '"', "'", "\r", "\n", "\t", " ", "😀"]),
    max_size=12,
) | st.sampled_from(["", " padded ", "]]>", "a\r\nb", "&amp;", "1", "true"])
_timezones = (
    st.none()
    | st.just(dt.UTC)
    | st.builds(lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-14 * 60, 14 * 60))
)
_SCALARS: list[tuple[type, st.SearchStrategy[Any]]] = [
    (b.Boolean, st.booleans()),
    (b.Integer, st.integers(-(2**63), 2**63)),
    (b.Decimal, st.decimals(-(10**12), 10**12, allow_nan=False, allow_infinity=False)),
    (b.Float, st.floats(allow_nan=False, width=32)),
    (b.Double, st.floats(allow_nan=False)),
    # zeep writes years before 1000 unpadded ("999-01-01"), and cannot read them back
    (b.DateTime, st.datetimes(dt.datetime(1000, 1, 1), timezones=_timezones)),
    (b.Date, st.dates(dt.date(1000, 1, 1))),
    (b.Time, st.times()),
    (b.Duration, st.timedeltas(dt.timedelta(days=-999), dt.timedelta(days=999))),
    (b.Base64Binary, st.binary(max_size=16)),
    (b.HexBinary, st.text("0123456789ABCDEF", max_size=8)),
    (b.gYear, st.tuples(st.integers(1000, 2999), st.none())),
    (b.gYearMonth, st.tuples(st.integers(1000, 2999), st.integers(1, 12), st.none())),
    (b.gMonth, st.tuples(st.integers(1, 12), st.none())),
    (b.gMonthDay, st.tuples(st.integers(1, 12), st.integers(1, 28), st.none())),
    (b.gDay, st.tuples(st.integers(1, 28), st.none())),
]

junk = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.decimals(allow_nan=False),
    st.floats(),
    st.dates(),
    xml_text,
    st.just("bad\x00value"),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["x", "No", "Key"]), st.integers(), max_size=2),
)


def scalar(type_: Any) -> st.SearchStrategy[Any]:
    if isinstance(type_, ListType):
        return st.lists(scalar(type_.item_type), max_size=3)
    if isinstance(type_, UnionType) and type_.item_class is not None:
        return scalar(type_.item_class())
    for cls, strategy in _SCALARS:
        if isinstance(type_, cls):
            return strategy
    return xml_text


def value_of(element: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid values for a zeep ``Element``: its type, occurrences, nillability."""
    type_ = element.type
    if isinstance(type_, ComplexType):
        item: st.SearchStrategy[Any] = st.deferred(lambda: _complex(type_, depth + 1))
    else:
        item = scalar(type_)
    if element.nillable:
        item = st.none() | item
    if element.accepts_multiple:
        low = min(int(element.min_occurs), 3)
        high = 3 if element.max_occurs == "unbounded" else min(int(element.max_occurs), 3)
        return st.lists(item, min_size=low, max_size=max(low, high))
    if element.is_optional:
        return st.none() | item
    return item


def _complex(type_: ComplexType, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    elements = type_.elements
    required = {name: value_of(el, depth) for name, el in elements if not el.is_optional}
    optional = {name: el for name, el in elements if el.is_optional}
    if depth >= MAX_DEPTH or not optional:
        return st.fixed_dictionaries(required)
    chosen = st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=4)
    return chosen.flatmap(
        lambda names: st.fixed_dictionaries(
            {**required, **{name: value_of(optional[name], depth) for name in names}}
        )
    )


def params_of(type_: ComplexType) -> st.SearchStrategy[dict[str, Any]]:
    """Valid params for an operation whose input part is of ``type_``."""
    return _complex(type_, 0)


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(d for v in value.values() for d in _dicts(v))]
    if isinstance(value, list):
        return [d for v in value for d in _dicts(v)]
    return []


def mutate_params(data: st.DataObject, params: dict[str, Any]) -> None:
    """Break ``params`` in one place: drop a key, junk a value, add an unknown key."""
    target = data.draw(st.sampled_from(_dicts(params)))
    action = data.draw(st.sampled_from(["drop", "junk", "unknown"] if target else ["unknown"]))
    if action == "unknown":
        target[data.draw(st.sampled_from(["Bogus", "_raw_elements", "x"]))] = 1
        return
    key = data.draw(st.sampled_from(sorted(target)))
    if action == "drop":
        del target[key]
    else:
        target[key] = data.draw(junk)


_REPLY_MUTATIONS = [
    "drop", "duplicate", "unknown", "nil", "text", "padded", "unqualified", "xsi_type",
    "attribute", "empty", "comment",
]  # fmt: skip


def mutate_reply(data: st.DataObject, part: etree._Element) -> None:
    """Change the reply's part element (or an element under it) in one of the ways real
    servers deviate from their WSDL."""
    element = data.draw(st.sampled_from(list(part.iter(etree.Element))))
    action = data.draw(st.sampled_from(_REPLY_MUTATIONS))
    parent = element.getparent()
    namespace = etree.QName(element).namespace
    if action == "drop" and element is not part:
        parent.remove(element)
    elif action == "duplicate" and element is not part:
        element.addnext(etree.fromstring(etree.tostring(element)))
    elif action == "unknown":
        etree.SubElement(element, f"{{{namespace}}}Unexpected" if namespace else "Unexpected")
    elif action == "nil":
        element.set(f"{{{XSI}}}nil", "true")
    elif action == "text":
        element.text = data.draw(
            st.sampled_from(["abc", "", "1.5e3", "-", "2026-13-45", "01", "yes", "TRUE", "1 2"])
        )
    elif action == "padded":
        element.text = f" \n{element.text or ''}\t"
    elif action == "unqualified":
        element.tag = etree.QName(element).localname
    elif action == "xsi_type":
        element.set(f"{{{XSI}}}type", "xsd:string")
    elif action == "attribute":
        element.set("extra", "1")
    elif action == "empty":
        element.text = None
        for child in list(element):
            element.remove(child)
    elif action == "comment":
        element.insert(0, etree.Comment("note"))
