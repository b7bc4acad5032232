"""The bytes on the wire: XML-RPC calls in, XML-RPC answers and the two failure pages out.

Requests are parsed with defusedxml's expat parser, one per call (no DTDs, no entities, no
external references) and the caller caps their size, so a hostile body costs nothing. Answers
are marshalled with the standard library, as Odoo does.
"""

from __future__ import annotations

from typing import Any
from xmlrpc.client import Fault, Unmarshaller, dumps

from defusedxml.xmlrpc import DefusedExpatParser

from sandbox.crm.errors import ApplicationError

__all__ = [
    "BAD_GATEWAY_PAGE",
    "MAX_REQUEST_BYTES",
    "TRUNCATED_RESPONSE",
    "parse_call",
    "render_fault",
    "render_result",
]

MAX_REQUEST_BYTES = 1024 * 1024

# What nginx in front of Odoo says when no worker answers (workers crashed or recycling).
BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

# A methodResponse cut off mid-record, as when a proxy drops the upstream connection mid-reply.
TRUNCATED_RESPONSE = (
    b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n"
    b"<value><struct>\n<member>\n<name>id</name>\n<value><int>7</int></value>\n</member>\n"
    b"<member>\n<name>name</name>\n<value><string>Adatum Tra"
)


def parse_call(body: bytes) -> tuple[str, tuple[Any, ...]]:
    """Return ``(method, params)`` of a methodCall; a body that is not one is a fault 1."""
    unmarshaller = Unmarshaller()
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    try:
        parser.feed(body)
        parser.close()
        params = unmarshaller.close()
        method = unmarshaller.getmethodname()
    except Exception as exc:  # anything the parser raises is the client's bad request
        raise ApplicationError(
            f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), where="rpc"
        ) from exc
    if not isinstance(method, str):
        raise ApplicationError("xmlrpc.client.ResponseError", "not a methodCall", where="rpc")
    return method, params


def render_result(result: Any) -> bytes:
    """Marshal one return value; ``None`` must never get here (Odoo answers ``False``)."""
    return dumps((result,), methodresponse=True, allow_none=False).encode()


def render_fault(fault: Fault) -> bytes:
    return dumps(fault, methodresponse=True, allow_none=False).encode()
