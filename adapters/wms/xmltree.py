"""XML from a legacy TCP peer: parsed defensively, turned into plain trees and back.

A reply is hostile until proven otherwise. lxml parses with entity resolution, DTD loading and
the network off and ``huge_tree`` off (libxml2's depth and size limits stay on). On top of that a
DOCTYPE is looked at before parsing: one with an internal subset (``[ ... ]``: entity, attribute
or notation declarations) or an external id (``SYSTEM``/``PUBLIC``) is always refused, so a
billion-laughs payload is never parsed at all; a bare ``<!DOCTYPE Root>`` (as Fishbowl sends)
is accepted only when the backend allows it. lxml cannot report ``ATTLIST``/``NOTATION``
declarations afterwards, hence the scan; lxml's own document info is the second check, and a
DOCTYPE the scan could not see (a UTF-16 document) is refused rather than trusted.

Trees: an element with neither children nor attributes is its text; otherwise a dict of its
attributes and children by local name (namespaces dropped), a repeated child becoming a list
and text beside children or attributes kept under ``"#text"``. All leaves are strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

__all__ = ["XmlRejected", "parse_xml", "render_xml"]

TEXT_KEY = "#text"
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+[^\s\[>]+\s*(?P<rest>[^\[>]*)(?P<close>[\[>])")
_FIRST_MARKUP = re.compile(rb"<(?:!DOCTYPE|[A-Za-z_:\x80-\xff])")


class XmlRejected(ValueError):
    """Not well-formed XML, or XML carrying declarations this gateway never accepts."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


_PARSER = _parser()


def parse_xml(data: bytes, *, allow_doctype: bool) -> dict[str, Any]:
    """``{root_tag: tree}`` for ``data``, or :class:`XmlRejected`."""
    scanned_bare_doctype = _inspect_doctype(data, allow_doctype)
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise XmlRejected(f"not well-formed XML: {exc}") from None
    info = root.getroottree().docinfo
    if info.doctype:
        if not scanned_bare_doctype:
            raise XmlRejected("a DOCTYPE declaration that could not be inspected is not accepted")
        if info.system_url or info.public_id:
            raise XmlRejected("a DOCTYPE pointing at an external DTD is not accepted")
        dtd = info.internalDTD
        if dtd is not None and (any(dtd.iterentities()) or any(dtd.iterelements())):
            raise XmlRejected("DTD declarations are not accepted")
    return {_local(root.tag): _tree(root)}


def _inspect_doctype(data: bytes, allow_doctype: bool) -> bool:
    """Refuse a dangerous or unwanted DOCTYPE before parsing; True if a bare one was seen."""
    first = _FIRST_MARKUP.search(data)
    if first is None or not first.group().startswith(b"<!DOCTYPE"):
        return False
    declaration = _DOCTYPE.match(data, first.start())
    if declaration is None:
        raise XmlRejected("malformed DOCTYPE declaration")
    if declaration["close"] == b"[":
        raise XmlRejected("a DOCTYPE with an internal subset (entity declarations) is not accepted")
    if declaration["rest"].strip():
        raise XmlRejected("a DOCTYPE pointing at an external DTD is not accepted")
    if not allow_doctype:
        raise XmlRejected("a DOCTYPE declaration is not accepted from this backend")
    return True


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _tree(element: Any) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return element.text or ""
    tree: dict[str, Any] = {_local(name): value for name, value in element.attrib.items()}
    for child in children:
        name, value = _local(child.tag), _tree(child)
        if name not in tree:
            tree[name] = value
        elif isinstance(tree[name], list):
            tree[name].append(value)
        else:
            tree[name] = [tree[name], value]
    if text:
        tree[TEXT_KEY] = text
    return tree


def render_xml(document: Mapping[str, Any], *, doctype: bool = False) -> bytes:
    """UTF-8 XML for a ``{root_tag: tree}`` mapping (the inverse of :func:`parse_xml`).

    Dicts become child elements, lists repeated elements, ``None`` an empty element, booleans
    ``true``/``false``. ``doctype`` writes a bare ``<!DOCTYPE root>`` after the declaration.
    Raises ``ValueError`` for anything that is not a one-root tree of valid element names.
    """
    if not isinstance(document, Mapping) or len(document) != 1:
        raise ValueError("an XML document needs exactly one root element")
    ((tag, value),) = document.items()
    root = etree.Element(str(tag))
    _fill(root, value)
    prologue = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if doctype:
        prologue += b"<!DOCTYPE " + str(tag).encode() + b">\n"
    return prologue + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _fill(element: Any, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            if name == TEXT_KEY:
                element.text = _text(child)
            elif isinstance(child, list | tuple):
                for item in child:
                    _fill(etree.SubElement(element, str(name)), item)
            else:
                _fill(etree.SubElement(element, str(name)), child)
    elif value is not None:
        element.text = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
