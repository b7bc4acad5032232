"""SOAP 1.1 on the wire: reading a request envelope safely, writing replies and faults.

Requests are parsed with lxml with entity resolution and network access off, and any DTD is
refused: a SOAP message may not carry one (SOAP 1.1 section 3), and it is how entity-expansion
attacks arrive. Replies are written as NAV writes them (a ``Soap:`` prefixed envelope, no XML
declaration); faults carry the faultcode as ``soap:Client`` / ``soap:Server`` and NAV's
``<detail><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">`` detail.
"""

from __future__ import annotations

from lxml import etree

from sandbox.erp.errors import NavFault
from sandbox.erp.render import escape

__all__ = ["SOAP_ENV", "parse_request", "render_fault", "render_reply"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_HEADER = f"{{{SOAP_ENV}}}Header"
_BODY = f"{{{SOAP_ENV}}}Body"
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"

_REPLY_HEAD = f'<Soap:Envelope xmlns:Soap="{SOAP_ENV}"><Soap:Body>'.encode()
_REPLY_TAIL = b"</Soap:Body></Soap:Envelope>"
_SERIALIZATION = "http://schemas.microsoft.com/2003/10/Serialization/"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_PARSER = _parser()  # one per process: parsing happens on the event loop thread only


def parse_request(body: bytes) -> etree._Element:
    """The operation element (the Body's first child) of a SOAP 1.1 request."""
    if b"<!DOCTYPE" in body:
        raise NavFault("The request may not contain a document type declaration (DTD).")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise NavFault(f"The request is not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise NavFault("The request may not contain a document type declaration (DTD).")
    if root.tag != _ENVELOPE:
        if root.tag == f"{{{SOAP12_ENV}}}Envelope":
            raise NavFault("This service speaks SOAP 1.1 only.", code="VersionMismatch")
        raise NavFault(f"The request is not a SOAP 1.1 envelope (its root is {root.tag}).")
    header = root.find(_HEADER)
    if header is not None:
        for block in header:
            if block.get(_MUST_UNDERSTAND) in {"1", "true"}:
                raise NavFault(
                    f"The header block {block.tag} is not understood.", code="MustUnderstand"
                )
    soap_body = root.find(_BODY)
    if soap_body is None:
        raise NavFault("The SOAP envelope has no Body.")
    for child in soap_body:
        if isinstance(child.tag, str):
            return child
    raise NavFault("The SOAP Body names no operation.")


def render_reply(result_xml: str) -> bytes:
    return _REPLY_HEAD + result_xml.encode() + _REPLY_TAIL


def render_fault(fault: NavFault) -> bytes:
    message = escape(fault.message)
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{fault.code}</faultcode>"
        f'<faultstring xml:lang="en-US">{message}</faultstring>'
        f'<detail><string xmlns="{_SERIALIZATION}">{message}</string></detail>'
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
