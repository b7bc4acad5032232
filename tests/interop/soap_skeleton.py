"""Minimal valid params for any zeep operation: every required element, nothing optional.

Used to prove a WSDL's every operation can be built into a request. Values are the simplest of
their XSD type (``"x"``, ``1``, ``Decimal("1.5")``, a date ...), a repeated element gets one item,
a choice its first alternative, a SOAP-encoded array one item. zeep 4.3.3's ways shape it: a
SOAP-encoded array is a plain list only as a top-level rpc part; inside a struct or another
array it is ``{"_value_1": [...]}``; and an array of ``xsd:anyType`` (Magento's ``FixedArray``)
cannot be rendered from items at all, so it is left out with ``xsd.SkipValue``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from zeep import xsd
from zeep.xsd.elements import All, Choice, Element, Group, Sequence
from zeep.xsd.elements import Any as AnyElement
from zeep.xsd.types import ComplexType

__all__ = ["skeleton_params"]

MAX_DEPTH = 24
_SCALARS: tuple[tuple[type, Any], ...] = (
    (xsd.Boolean, True),
    (xsd.Integer, 1),
    (xsd.Decimal, Decimal("1.5")),
    (xsd.Float, 1.5),
    (xsd.Double, 1.5),
    (xsd.DateTime, dt.datetime(2024, 1, 2, 3, 4, 5)),
    (xsd.Date, dt.date(2024, 1, 2)),
    (xsd.Time, dt.time(3, 4, 5)),
    (xsd.Base64Binary, b"x"),
)


def skeleton_params(input_message: Any) -> dict[str, Any]:
    """Params for a zeep input message (``operation.input``)."""
    body = getattr(input_message, "body", None)
    if body is None:
        return {}
    value = _value(body.type, 0)
    return value if isinstance(value, dict) else {}


def _value(type_: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise RecursionError("schema nests required elements too deeply for a skeleton")
    if not isinstance(type_, ComplexType):
        return next((value for cls, value in _SCALARS if isinstance(type_, cls)), "x")
    if _is_array(type_):
        item_type = _array_item_type(type_)
        if item_type is None:
            return xsd.SkipValue
        item = _value(item_type, depth + 1)
        return [{"_value_1": item} if _is_array(item_type) else item]
    result: dict[str, Any] = {}
    for _, particle in type_.elements_nested:
        _fill(particle, result, depth + 1)
    for name, attribute in type_.attributes:
        if getattr(attribute, "required", False):
            result[name] = _value(attribute.type, depth + 1)
    return result


def _is_array(type_: Any) -> bool:
    return isinstance(type_, ComplexType) and type_._array_type is not None


def _array_item_type(type_: Any) -> Any:
    ((_, particle),) = type_.elements_nested
    while isinstance(particle, Sequence | All | Choice):
        particle = particle[0]
    if isinstance(particle, AnyElement):
        restrict = particle.restrict
        return None if restrict is None or type(restrict) is xsd.AnyType else restrict
    return particle.type


def _required(particle: Any) -> bool:
    return int(particle.min_occurs or 0) > 0


def _put(element: Element, into: dict[str, Any], depth: int) -> None:
    value = _value(element.type, depth)
    if _is_array(element.type) and depth > 1 and isinstance(value, list):
        value = {"_value_1": value}  # zeep takes a list only for a top-level part
    into[element.attr_name] = [value] if element.max_occurs != 1 else value


def _fill(particle: Any, into: dict[str, Any], depth: int) -> None:
    if isinstance(particle, Element):
        if _required(particle):
            _put(particle, into, depth)
    elif isinstance(particle, Choice):
        if _required(particle) and len(particle):
            first = particle[0]
            if isinstance(first, Element):
                _put(first, into, depth)
            else:
                _fill(first, into, depth)
    elif isinstance(particle, Sequence | All):
        if _required(particle):
            for child in particle:
                _fill(child, into, depth)
    elif isinstance(particle, Group):
        _fill(particle.child, into, depth)
    # xsd:any: nothing required that a skeleton could invent
