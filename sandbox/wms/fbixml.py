"""The FbiXml dialect: ``<!DOCTYPE FbiXml><FbiXml><Ticket/><FbiMsgsRq>...</FbiMsgsRq></FbiXml>``.

Real Fishbowl traffic starts with a bare ``<!DOCTYPE FbiXml>``, so the parser must accept a
DOCTYPE; what it must never accept is what makes a DOCTYPE dangerous. lxml parses with entity
resolution, DTD loading and the network all off, and a document whose DOCTYPE declares anything
(an internal subset) or points anywhere (a SYSTEM/PUBLIC id) is rejected.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

__all__ = ["XmlRejected", "parse", "render"]

_ATTRIBUTES = frozenset({"statusCode", "statusMessage", "requestID"})
_PROLOGUE = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE FbiXml>\n'


class XmlRejected(ValueError):
    """An FbiXml payload that is not well formed or declares entities."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_PARSER = _parser()


def parse(payload: bytes) -> tuple[str, list[tuple[str, Any]]]:
    """The ticket key and the ``(name, params)`` messages of an FbiXml request."""
    try:
        root = etree.fromstring(payload, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlRejected(f"payload is not well-formed XML: {exc}") from None
    _refuse_declarations(root.getroottree().docinfo)
    if root.tag != "FbiXml":
        raise XmlRejected(f"the root element is <{root.tag}>, expected <FbiXml>")
    key = root.findtext("Ticket/Key") or ""
    requests = root.find("FbiMsgsRq")
    if requests is None or len(requests) == 0:
        raise XmlRejected("FbiXml has no FbiMsgsRq messages")
    messages = []
    for child in requests:
        if isinstance(child.tag, str):
            params = _params(child)
            messages.append((child.tag, params if isinstance(params, dict) else {}))
    return key.strip(), messages


def render(ticket: dict[str, Any], envelope: dict[str, Any]) -> bytes:
    root = etree.Element("FbiXml")
    ticket_element = etree.SubElement(root, "Ticket")
    for name, value in ticket.items():
        etree.SubElement(ticket_element, name).text = _text(value)
    _fill(etree.SubElement(root, "FbiMsgsRs"), envelope)
    return _PROLOGUE + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _refuse_declarations(docinfo: Any) -> None:
    if docinfo.system_url or docinfo.public_id:
        raise XmlRejected("a DOCTYPE pointing at an external DTD is not accepted")
    dtd = docinfo.internalDTD
    if dtd is None:
        return
    if any(True for _ in dtd.iterentities()):
        raise XmlRejected("entity declarations are not accepted")
    if any(True for _ in dtd.iterelements()):
        raise XmlRejected("a DOCTYPE with an internal subset is not accepted")


def _params(element: Any) -> Any:
    """Element → text if it is a leaf, else a dict (a repeated child becomes a list)."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return (element.text or "").strip()
    tree: dict[str, Any] = {}
    for child in children:
        value = _params(child)
        if child.tag not in tree:
            tree[child.tag] = value
        elif isinstance(tree[child.tag], list):
            tree[child.tag].append(value)
        else:
            tree[child.tag] = [tree[child.tag], value]
    return tree


def _fill(element: Any, value: Any) -> None:
    if not isinstance(value, dict):
        element.text = _text(value)
        return
    for name, child in value.items():
        if name in _ATTRIBUTES:
            element.set(name, _text(child))
        elif isinstance(child, list):
            for item in child:
                _fill(etree.SubElement(element, name), item)
        else:
            _fill(etree.SubElement(element, name), child)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
