"""The Fbi envelope in both dialects: parse a request payload, render a reply payload.

A request is ``{"FbiJson": {"Ticket": {"Key": ...}, "FbiMsgsRq": {"<Name>Rq": {...}, ...}}}`` or
the same tree as ``<FbiXml>``; the first non-blank byte (``<``) tells which. Handlers see one
dialect-free shape (message name, params tree) and the reply is rendered in the dialect of the
request, as the real server does.

Reply bodies are plain trees: ``statusCode``/``statusMessage``/``requestID`` keys become XML
attributes, lists become repeated elements, ``None`` never appears (builders leave it out).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.wms import fbixml
from sandbox.wms.status import Status, status_message

__all__ = [
    "Dialect",
    "FbiReply",
    "FbiRequest",
    "MalformedRequest",
    "garbage_for",
    "parse_request",
    "render_reply",
    "sniff_dialect",
]

Params = dict[str, Any]


class Dialect(enum.Enum):
    JSON = "json"
    XML = "xml"


@dataclass(frozen=True, slots=True)
class FbiRequest:
    dialect: Dialect
    ticket_key: str
    messages: list[tuple[str, Params]]


@dataclass(slots=True)
class FbiReply:
    dialect: Dialect
    ticket: dict[str, Any]
    status: Status = Status.SUCCESS
    status_text: str | None = None  # the envelope's statusMessage; the table text when None
    messages: list[tuple[str, Params]] = field(default_factory=list)

    def envelope(self) -> Params:
        """``FbiMsgsRs`` as a tree: status first, then the message replies in request order."""
        body: Params = {"statusCode": int(self.status)}
        if self.status is not Status.SUCCESS:
            body["statusMessage"] = self.status_text or status_message(self.status)
        for name, message in self.messages:
            body[name] = message
        return body


class MalformedRequest(Exception):
    """A payload that is not a well-formed request of its dialect (answered with 1150)."""

    def __init__(self, dialect: Dialect, detail: str) -> None:
        super().__init__(detail)
        self.dialect = dialect
        self.detail = detail


def sniff_dialect(payload: bytes) -> Dialect:
    return Dialect.XML if payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<" else Dialect.JSON


def parse_request(payload: bytes) -> FbiRequest:
    dialect = sniff_dialect(payload)
    if dialect is Dialect.XML:
        try:
            key, messages = fbixml.parse(payload)
        except fbixml.XmlRejected as exc:
            raise MalformedRequest(dialect, str(exc)) from None
        return FbiRequest(dialect, key, messages)
    return FbiRequest(dialect, *_parse_json(payload))


def render_reply(reply: FbiReply) -> bytes:
    if reply.dialect is Dialect.XML:
        return fbixml.render(reply.ticket, reply.envelope())
    document = {"FbiJson": {"Ticket": reply.ticket, "FbiMsgsRs": reply.envelope()}}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def garbage_for(payload: bytes) -> bytes:
    """A reply cut off mid-write and followed by noise: valid framing, unparsable payload."""
    if sniff_dialect(payload) is Dialect.XML:
        return b'<?xml version="1.0" encoding="UTF-8"?><FbiXml><Ticket><Key>\xff\xfe\x00<FbiMsgsRs'
    return b'{"FbiJson":{"Ticket":{"Key":"\xff\xfe\x00","UserID":'


def _parse_json(payload: bytes) -> tuple[str, list[tuple[str, Params]]]:
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(Dialect.JSON, f"payload is not JSON: {exc}") from None
    root = document.get("FbiJson") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise MalformedRequest(Dialect.JSON, "the document has no FbiJson object")
    ticket = root.get("Ticket")
    key = ticket.get("Key") if isinstance(ticket, dict) else None
    requests = root.get("FbiMsgsRq")
    if not isinstance(requests, dict) or not requests:
        raise MalformedRequest(Dialect.JSON, "FbiJson has no FbiMsgsRq messages")
    # XML-born clients send an empty message as "" or null (``"LogoutRq": ""``).
    messages = [
        (name, params if isinstance(params, dict) else {}) for name, params in requests.items()
    ]
    return (key if isinstance(key, str) else ""), messages
