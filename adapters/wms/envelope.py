"""Fishbowl's Fbi envelope in both dialects, as plain trees (the payload codec does the bytes).

Request: ``{"FbiJson": {"Ticket": {"Key": k}, "FbiMsgsRq": {"<Name>Rq": params}}}``, or the same
tree under ``FbiXml``. Reply: ``FbiMsgsRs`` carries an envelope ``statusCode`` and a
``<Name>Rs`` that carries its own; the message's code is the more specific and wins. In the XML
dialect codes arrive as attribute strings and every value is text; in JSON they are numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from adapters.wms.payload import PayloadError

__all__ = ["FbiReply", "parse_reply", "request_document"]

Dialect = Literal["json", "xml"]
_ROOT = {"json": "FbiJson", "xml": "FbiXml"}
_STATUS_KEYS = ("statusCode", "statusMessage")


@dataclass(frozen=True, slots=True)
class FbiReply:
    ticket_key: str
    status: int
    message: str
    #: The ``<Name>Rs`` tree without its status fields (empty when the reply has none).
    body: dict[str, Any]


def request_document(
    dialect: Dialect, key: str, name: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The envelope carrying one ``<name>Rq`` message."""
    return {_ROOT[dialect]: {"Ticket": {"Key": key}, "FbiMsgsRq": {f"{name}Rq": dict(params)}}}


def parse_reply(document: Any, dialect: Dialect, name: str) -> FbiReply:
    """Read the status, ticket and ``<name>Rs`` body of a reply; PayloadError if it is not one."""
    root = document.get(_ROOT[dialect]) if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise PayloadError(f"reply is not an {_ROOT[dialect]} envelope")
    envelope = root.get("FbiMsgsRs")
    if not isinstance(envelope, dict):
        raise PayloadError("reply has no FbiMsgsRs")
    ticket = root.get("Ticket")
    key = ticket.get("Key") if isinstance(ticket, dict) else None
    message = envelope.get(f"{name}Rs")
    if isinstance(message, dict) and "statusCode" in message:
        source = message
    elif "statusCode" in envelope:
        source, message = envelope, None
    else:
        raise PayloadError(f"reply carries no statusCode for {name}Rq")
    body = (
        {k: v for k, v in message.items() if k not in _STATUS_KEYS}
        if isinstance(message, dict)
        else {}
    )
    text = source.get("statusMessage")
    return FbiReply(
        ticket_key=key if isinstance(key, str) else "",
        status=_code(source["statusCode"]),
        message=text if isinstance(text, str) else "",
        body=body,
    )


def _code(value: Any) -> int:
    if isinstance(value, bool):
        raise PayloadError(f"statusCode {value!r} is not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"statusCode {value!r} is not a number") from None
