"""What a SOAP operation returns, as plain data: the unwrapping rule and the conversion.

The rule is decided once per operation from the WSDL's types, never from the reply at hand, so an
operation always returns the same shape (a missing list is ``[]``, not ``None``):

1. The output body is read as zeep reads it: for document style with one body part, the value of
   the part's element (``Read_Result``); for rpc style (or several document parts), a wrapper
   whose fields are the parts.
2. **Wrapper**: if that value's type has exactly one child element and no attributes, the result
   is the child: the "wrapped" convention (``Read_Result`` → its ``SalesOrder``), or an rpc
   operation's single part. Otherwise (several fields or parts) the whole value is a dict; a
   simple-typed part element is its scalar.
3. **Array**: if the child repeats (``maxOccurs`` > 1), the result is a list; if the child's type
   itself has exactly one child element, which repeats, and no attributes (an "ArrayOf" type, as
   NAV's ``SalesOrder_List``), the result is that list. Absent or empty lists become ``[]``.
4. An operation without output, or whose output has no parts or fields, returns ``None``.
5. Everything below stays as the WSDL shapes it (nested ``ArrayOf`` types are not unwrapped, so
   results and params read the same way).

Values become plain Python: dicts (field order kept), lists, str, int, float, bool, None, and the
typed scalars zeep makes (``Decimal``, ``date``, ``datetime``, ``time``, ``bytes``, ``timedelta``),
which the facade's JSON encoder renders. ``xsd:any`` content without a schema becomes nested
dicts keyed by local name (``"@name"`` for attributes, ``"#text"`` for mixed text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.xsd import CompoundValue
from zeep.xsd.elements import All, Element, Sequence
from zeep.xsd.types import ComplexType
from zeep.xsd.valueobjects import AnyObject

__all__ = ["NO_RESULT", "ResultShape", "plain", "result_shape"]


@dataclass(frozen=True, slots=True)
class ResultShape:
    """Where the result sits in the output body: field names to descend, and whether a list."""

    path: tuple[str, ...] = ()
    as_list: bool = False
    empty: bool = False  # the operation has no output (one-way)

    def extract(self, body: Any) -> Any:
        if self.empty:
            return None
        value = body
        for name in self.path:
            if value is None or isinstance(value, list):
                break  # absent, or zeep already made the array a list
            value = value[name] if isinstance(value, dict) else getattr(value, name, None)
        if self.as_list:
            if value is None:
                return []
            return plain(value) if isinstance(value, list) else [plain(value)]
        return plain(value)


NO_RESULT = ResultShape(empty=True)


def _only_child(type_: Any) -> tuple[str, Element] | None:
    """The single child element of a complex type without attributes, if it has exactly one."""
    if not isinstance(type_, ComplexType) or type_.attributes:
        return None
    nested = type_.elements_nested
    if len(nested) != 1:
        return None
    child = nested[0][1]
    if isinstance(child, Sequence | All) and child.max_occurs == 1 and len(child) == 1:
        child = child[0]
    return (child.attr_name, child) if isinstance(child, Element) else None


def _repeats(element: Element) -> bool:
    return element.max_occurs == "unbounded" or int(element.max_occurs) > 1


def result_shape(message: Any) -> ResultShape:
    """The :class:`ResultShape` of a zeep output message (``SoapOperation.output``)."""
    body = getattr(message, "body", None)
    if message is None or body is None:
        return NO_RESULT
    type_ = body.type
    if isinstance(type_, ComplexType) and not type_.elements_nested and not type_.attributes:
        return NO_RESULT  # a void operation: an rpc response without parts, an empty element
    child = _only_child(body.type)
    if child is None:
        return ResultShape()  # several parts or fields: the whole body as a dict
    path = (child[0],)
    if _repeats(child[1]):
        return ResultShape(path=path, as_list=True)
    array = _only_child(child[1].type)
    if array is not None and _repeats(array[1]):
        return ResultShape(path=(*path, array[0]), as_list=True)
    return ResultShape(path=path)


def plain(value: Any) -> Any:
    """``value`` with zeep's objects turned into dicts and lists (like ``serialize_object``)."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, CompoundValue):
        return {key: plain(value[key]) for key in value}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, AnyObject):
        return plain(value.value)
    if isinstance(value, etree._Element):
        return _element(value)
    if isinstance(value, etree.QName):
        return value.text
    return value


def _element(element: etree._Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return element.text
    result: dict[str, Any] = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    text = (element.text or "").strip()
    if text:
        result["#text"] = text
    for child in children:
        name = etree.QName(child).localname
        value = _element(child)
        if name in result:
            existing = result[name]
            result[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[name] = value
    return result
