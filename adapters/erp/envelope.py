"""SOAP envelopes: built by zeep from params, and replies read back into plain data.

zeep does the SOAP work (the binding's ``_create`` builds the envelope, WS-Security included,
and its message objects convert the body with the WSDL's schema); the HTTP is not zeep's. For
document/literal operations the codecs compiled at startup (:mod:`adapters.erp.compiled`) do the
same work much faster, and hand any call they cannot do exactly as zeep would back to zeep.
Replies are parsed here with a hardened lxml parser before zeep sees them: no DTD of any kind
(SOAP forbids one, and it is how entity-expansion and external-entity attacks arrive), no network,
no entity resolution, and libxml2's default limits (``huge_tree`` off: 256 levels of nesting,
10 MB text nodes), and at most :data:`MAX_XML_TAGS` tags, so a hostile reply fails fast with
bounded memory.

Failures are raised as they come (zeep's ``Fault``, lxml's ``XMLSyntaxError``, zeep's validation
errors, or :class:`NotSoapReply` for replies that are not SOAP at all) and translated into the
adapter error tree in one place, :func:`adapters.erp.faults.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from lxml import etree

from adapters.erp.compiled import Deviation
from adapters.erp.operations import SoapOperation
from adapters.http import HttpReply
from adapters.xmlparsers import per_thread

__all__ = [
    "MAX_XML_TAGS",
    "HostileReply",
    "NotSoapReply",
    "UnknownParameter",
    "build_request",
    "parse_reply",
]

log = structlog.get_logger("veneer.soap")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
#: A parsed element costs lxml about 120 bytes whatever its size, so the byte cap alone does not
#: bound memory: 16 MiB of ``<a/>`` is 4 million elements, half a gigabyte. Counting ``<`` (an
#: upper bound on elements) caps a tree near 50 MB; real replies use a few percent of it.
MAX_XML_TAGS = 400_000
_ENVELOPES = {
    "http://schemas.xmlsoap.org/soap/envelope/": "1.1",
    "http://www.w3.org/2003/05/soap-envelope": "1.2",
}


class NotSoapReply(Exception):
    """The reply is not a SOAP envelope this operation can read (HTML, another root, no Body)."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class HostileReply(NotSoapReply):
    """The reply carries a DTD: entity expansion or external references, refused unread."""


class UnknownParameter(TypeError):
    """A param the operation's input does not have."""


def build_request(op: SoapOperation, params: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The HTTP body and headers of a call of ``op`` with ``params``."""
    unknown = [key for key in params if key not in op.accepted]
    if unknown:
        known = ", ".join(op.params) or "none"
        raise UnknownParameter(
            f"{op.name} has no parameter {unknown[0]!r} (its parameters: {known})"
        )
    if op.encoder is not None:
        try:
            return op.encoder.encode(params)
        except Deviation as exc:  # params off the compiled path: zeep builds this one
            log.debug(
                "soap.codec.deviation", operation=op.name, direction="request", reason=str(exc)
            )
    envelope, headers = op.binding._create(
        op.wsdl_name, (), dict(params), client=op.client, options={"address": op.address}
    )
    body = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return body, dict(headers)


def _make_parser() -> etree.XMLParser:
    # One per thread (big replies are parsed in a thread): lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_parser = per_thread(_make_parser)


def _parse_xml(reply: HttpReply) -> etree._Element:
    head = reply.body[:1024].lstrip().lower()
    if reply.content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        raise NotSoapReply(f"HTTP {reply.status} with an HTML page", status=reply.status)
    if not head.startswith((b"<", *_BOMS)):
        kind = reply.content_type or "no content type"
        raise NotSoapReply(f"HTTP {reply.status} with a non-XML body ({kind})", status=reply.status)
    if b"<!doctype" in head:  # refused unread; the docinfo check below catches a later one
        raise HostileReply(
            "the reply carries a <!DOCTYPE>, which SOAP forbids", status=reply.status
        )
    if reply.body.count(b"<") > MAX_XML_TAGS:  # C speed; bounds the tree before it is built
        raise HostileReply(f"the reply has more than {MAX_XML_TAGS} XML tags", status=reply.status)
    root = etree.fromstring(reply.body, _parser())
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise HostileReply(
            "the reply carries a <!DOCTYPE>, which SOAP forbids", status=reply.status
        )
    return root


def parse_reply(op: SoapOperation, reply: HttpReply) -> Any:
    """The result of ``op`` from its HTTP reply, as plain data; raise on faults and bad replies.

    Call only for replies that are not 429/502/503/504 (``raise_for_unavailable`` first).
    """
    if reply.status in (201, 202) and not reply.body.strip():
        return None  # a one-way operation's acknowledgement
    if not reply.body.strip():
        raise NotSoapReply(f"HTTP {reply.status} with an empty body", status=reply.status)
    if reply.content_type == "multipart/related":
        raise NotSoapReply("multipart (MTOM/SwA) replies are not supported", status=reply.status)
    root = _parse_xml(reply)
    namespace = op.envelope_ns
    if root.tag != f"{{{namespace}}}Envelope":
        tag = etree.QName(root)
        other = _ENVELOPES.get(tag.namespace or "")
        reason = (
            f"a SOAP {other} envelope in reply to a SOAP {op.soap_version} request"
            if other and tag.localname == "Envelope"
            else f"the reply's root element is {tag.localname}, not a SOAP Envelope"
        )
        raise NotSoapReply(reason, status=reply.status)
    body = root.find(f"{{{namespace}}}Body")
    if body is None:
        raise NotSoapReply("the SOAP envelope has no Body", status=reply.status)
    operation = op.zeep_operation
    if body.find(f"{{{namespace}}}Fault") is not None:
        op.binding.process_error(root, operation)  # raises zeep.exceptions.Fault
    if reply.status != 200:
        raise NotSoapReply(f"HTTP {reply.status} without a SOAP fault", status=reply.status)
    if op.result.empty:
        return None
    if not any(isinstance(child.tag, str) for child in body):
        raise NotSoapReply(f"the reply to {op.name} has an empty Body", status=reply.status)
    if op.decoder is not None:
        try:
            return op.decoder.decode(body)
        except Deviation as exc:  # off the compiled path: zeep reads it, and decides what is wrong
            log.debug("soap.codec.deviation", operation=op.name, direction="reply", reason=str(exc))
    value = operation.output._deserialize_body(body)["body"]
    return op.result.extract(value)
