"""Reply bodies to plain data, as zeep and :mod:`adapters.erp.results` would make them.

The reply is already parsed (by the adapter's hardened lxml parser) and checked for faults; what
is left is zeep's ``_deserialize_body`` followed by :meth:`ResultShape.extract`. zeep builds its
value objects with generic code, which :func:`adapters.erp.results.plain` then turns into dicts;
:class:`ReplyDecoder` walks the compiled fields and builds the dicts directly, with zeep's rules:

- the first child of ``Body`` is read with the part element's type, ``allow_none`` off;
- a complex element with neither children nor attributes is ``None``; otherwise a dict of every
  field in schema order, absent ones ``None`` (``[]`` when repeated, the schema default when
  required), text converted by zeep's own ``pythonvalue`` (see :mod:`.xsdtypes`);
- a simple element without text is ``None``; repeated elements are lists, up to ``maxOccurs``.

Whatever zeep would read leniently or reject (an element out of place, an unqualified element
where a qualified one is declared, an ``xsi:type``, a value its type cannot read, a leftover
element) raises :class:`Deviation`, and the adapter lets zeep read that reply: it then returns
what zeep returns, or raises what zeep raises.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from zeep.xsd.const import xsi_ns

from adapters.erp.compiled.model import Deviation, Field, Struct
from adapters.erp.results import ResultShape

__all__ = ["ReplyDecoder"]

_XSI_TYPE = xsi_ns("type").text


class ReplyDecoder:
    """Reads one operation's reply body into its result."""

    def __init__(self, body: Field, shape: ResultShape) -> None:
        self._body = body
        self._path = shape.path
        self._as_list = shape.as_list

    def decode(self, body: etree._Element) -> Any:
        """The operation's result from the SOAP ``Body`` of a reply that is not a fault."""
        first = body[0] if len(body) else None
        if first is None or first.tag != self._body.tag:
            raise Deviation("the Body's first child is not the declared part element")
        value = _value(self._body, first, allow_none=False)
        for name in self._path:  # ResultShape.extract, on data that is already plain
            if value is None or isinstance(value, list):
                break
            value = value[name] if isinstance(value, dict) else getattr(value, name, None)
        if self._as_list:
            if value is None:
                return []
            return value if isinstance(value, list) else [value]
        return value


def _value(field: Field, element: Any, allow_none: bool = True) -> Any:
    """zeep's ``Element.parse`` of one element."""
    if element.get(_XSI_TYPE) is not None:
        raise Deviation(f"xsi:type on {field.local}")
    simple = field.simple
    if simple is not None:
        text = element.text
        if text is None:
            return None
        try:
            return simple.from_text(text)
        except Exception as exc:  # zeep logs and returns None, or raises: let zeep decide
            raise Deviation(f"{field.local}: {simple.name} cannot read {text!r}") from exc
    struct = field.struct
    assert struct is not None
    if struct.empty:
        return None
    return _struct(struct, element, allow_none)


def _struct(struct: Struct, element: Any, allow_none: bool) -> Any:
    """zeep's ``ComplexType.parse_xmlelement`` (strict) with a flattened ``Sequence``."""
    children = list(element)
    count = len(children)
    if not count:
        if allow_none and not element.attrib:
            return None
        return struct.defaults()
    result = struct.defaults()
    if struct.by_tag is not None:
        return _unordered(struct.by_tag, children, result)
    index = 0
    for field in struct.fields:
        child = children[index]
        if child.tag != field.tag:
            _unmatched(field, child)
            continue
        if field.repeats:
            items = result[field.name]
            while True:
                items.append(_value(field, child))
                index += 1
                if index == count or len(items) == field.max_occurs:
                    break
                child = children[index]
                if child.tag != field.tag:
                    _other(field, child)
                    break
        else:
            result[field.name] = _value(field, child)
            index += 1
        if index == count:
            return result
    raise Deviation(f"{struct.name}: unexpected element {children[index].tag!r}")


def _unordered(by_tag: dict[str, Field], children: list[Any], result: dict[str, Any]) -> Any:
    """zeep's ``All.parse_xmlelements``: children by exact tag, in any order; a single element
    given twice keeps the first, a repeated one its first ``maxOccurs``, the rest unread."""
    found: dict[str, list[Any]] = {}
    for child in children:
        tag = child.tag
        if tag not in by_tag:  # also comments, whose tag is not a string
            raise Deviation(f"unexpected element {tag!r}")
        found.setdefault(tag, []).append(child)
    for tag, elements in found.items():
        field = by_tag[tag]
        if field.repeats:
            result[field.name] = [_value(field, e) for e in elements[: field.max_occurs]]
        else:
            result[field.name] = _value(field, elements[0])
    return result


def _unmatched(field: Field, child: Any) -> None:
    """``child`` is not ``field``'s element: fine if the field may be absent."""
    _other(field, child)
    if not field.optional:
        raise Deviation(f"{field.local} is required, found {child.tag!r}")


def _other(field: Field, child: Any) -> None:
    """Raise if zeep would still take ``child`` for ``field`` (it compares local names when
    either side is unqualified), or if ``child`` is not an element at all."""
    tag = child.tag
    if not isinstance(tag, str):
        raise Deviation("a comment, entity or processing instruction among the elements")
    namespace, _, local = tag[1:].rpartition("}") if tag[0] == "{" else ("", "", tag)
    if local == field.local and not (namespace and field.namespace):
        raise Deviation(f"{tag!r} matches {field.tag!r} only leniently")
