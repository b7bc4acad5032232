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
where a qualified one is declared, an ``xsi:type`` anywhere in the part, a value its type cannot
read, a leftover element) raises :class:`Deviation`, and the adapter lets zeep read that reply:
it then returns what zeep returns, or raises what zeep raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from adapters.erp.compiled.model import Deviation, Field, Struct
from adapters.erp.results import ResultShape

__all__ = ["ReplyDecoder"]

#: One C-level scan instead of a lookup per element (an xsi:type makes zeep switch types).
_HAS_XSI_TYPE = etree.XPath(
    "boolean(.//@xsi:type)", namespaces={"xsi": "http://www.w3.org/2001/XMLSchema-instance"}
)


class ReplyDecoder:
    """Reads one operation's reply body into its result."""

    def __init__(self, body: Field, shape: ResultShape) -> None:
        self._body = body
        self._path = shape.path
        self._as_list = shape.as_list

    def decode(self, body: etree._Element) -> Any:
        """The operation's result from the SOAP ``Body`` of a reply that is not a fault."""
        part = body[0] if len(body) else None
        if part is None or part.tag != self._body.tag:
            raise Deviation("the Body's first child is not the declared part element")
        if _HAS_XSI_TYPE(part):
            raise Deviation("an xsi:type in the reply")
        value = _value(self._body, part, allow_none=False)
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
    """zeep's ``Element.parse`` of one element (no ``xsi:type`` in sight)."""
    simple = field.simple
    if simple is not None:
        text = element.text
        convert = simple.from_text
        return text if text is None or convert is None else _converted(field, convert, text)
    struct = field.struct
    assert struct is not None
    if struct.empty:
        return None
    children = list(element)
    if not children:
        if allow_none and not element.attrib:
            return None
        return struct.defaults()
    if struct.by_tag is not None:
        return _unordered(struct.by_tag, children, struct.defaults())
    return _ordered(struct, children)


def _converted(field: Field, convert: Callable[[str], Any], text: str) -> Any:
    try:
        return convert(text)
    except Exception as exc:  # zeep logs and returns None, or raises: let zeep decide
        raise Deviation(f"{field.local}: a value its type cannot read") from exc


def _ordered(struct: Struct, children: list[Any]) -> dict[str, Any]:
    """zeep's strict ``Sequence.parse_xmlelements`` over the flattened fields: each field takes
    the children at hand that are its element, up to ``maxOccurs``; a required field that does
    not match the child at hand is zeep's error; once the children run out, the rest default."""
    result: dict[str, Any] = {}
    count = len(children)
    index = 0
    child = children[0]
    tag = child.tag
    for field in struct.fields:
        if index == count:
            result[field.name] = [] if field.repeats else field.absent
            continue
        if tag != field.tag:
            _unmatched(field, child)
            result[field.name] = [] if field.repeats else field.absent
            continue
        if field.repeats:
            items = [_value(field, child)]
            index += 1
            while index < count:
                child = children[index]
                tag = child.tag
                if tag != field.tag:
                    _other(field, child)
                    break
                if len(items) == field.max_occurs:
                    break
                items.append(_value(field, child))
                index += 1
            result[field.name] = items
            continue
        simple = field.simple
        if simple is None:
            result[field.name] = _value(field, child)
        else:  # _value's first branch, inline: most elements are simple and occur once
            text = child.text
            convert = simple.from_text
            result[field.name] = (
                text if text is None or convert is None else _converted(field, convert, text)
            )
        index += 1
        if index < count:
            child = children[index]
            tag = child.tag
    if index < count:
        raise Deviation(f"{struct.name}: unexpected element {tag!r}")
    return result


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
    """Raise if zeep might still take ``child`` for ``field``: it compares only local names when
    either side is unqualified (and always, with ``strict: false``); or if ``child`` is not an
    element at all."""
    tag = child.tag
    if not isinstance(tag, str):
        raise Deviation("a comment, entity or processing instruction among the elements")
    if tag.rpartition("}")[2] == field.local:
        raise Deviation(f"{tag!r} may match {field.tag!r} leniently")
