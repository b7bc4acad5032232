"""Per operation: a compiled encoder and decoder, or the reason zeep keeps the job.

Only document-style operations are compiled; rpc (and rpc/encoded) stays on zeep, whose
multi-ref and SOAP-encoding handling is not worth restating. Within a document operation, the
request and the reply are decided separately: an operation whose request uses an ``xsd:choice``
may still read its reply compiled. Each refusal is logged once, at startup, at debug level
(``soap.codec.zeep``), naming the operation, the direction and the construct.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import structlog
from zeep.wsdl.messages.soap import DocumentMessage

from adapters.erp.compiled.compiler import TypeCompiler
from adapters.erp.compiled.decoder import ReplyDecoder
from adapters.erp.compiled.encoder import RequestEncoder
from adapters.erp.compiled.model import Field, NotCompilable
from adapters.erp.results import ResultShape

__all__ = ["OperationCodec", "compile_operation"]

log = structlog.get_logger("veneer.soap")


@dataclass(frozen=True, slots=True)
class OperationCodec:
    """What was compiled for one operation; ``None`` where zeep does the work, and why."""

    encoder: RequestEncoder | None
    decoder: ReplyDecoder | None
    encoder_reason: str | None = None
    decoder_reason: str | None = None


def compile_operation(
    client: Any, binding: Any, operation: Any, *, address: str, result: ResultShape, name: str
) -> OperationCodec:
    """Compile ``operation`` (a zeep binding operation) of ``binding``; never raises: a schema
    the compiler trips over (a bug, not a refusal) is logged as a warning and left to zeep."""
    encoder = decoder = None
    encoder_reason = decoder_reason = None
    try:
        encoder = _encoder(client, binding, operation, address)
    except Exception as exc:
        encoder_reason = _refused(exc, name, "request")
    if not result.empty:  # nothing to decode otherwise
        try:
            decoder = ReplyDecoder(_part(operation, operation.output, "reply"), result)
        except Exception as exc:
            decoder_reason = _refused(exc, name, "reply")
    return OperationCodec(encoder, decoder, encoder_reason, decoder_reason)


def _refused(exc: Exception, name: str, direction: str) -> str:
    if isinstance(exc, NotCompilable):
        log.debug("soap.codec.zeep", operation=name, direction=direction, reason=str(exc))
        return str(exc)
    reason = f"the compiler failed: {type(exc).__name__}: {exc}"
    log.warning("soap.codec.zeep", operation=name, direction=direction, reason=reason)
    return reason


def _encoder(client: Any, binding: Any, operation: Any, address: str) -> RequestEncoder:
    message = operation.input
    _check_document(operation, message, "request")
    body = None if message.body is None else _part(operation, message, "request")
    if body is not None and body.struct is None:
        raise NotCompilable("the request part is a simple-typed element")
    action = operation.soapaction
    serialized = SimpleNamespace(headers={"SOAPAction": f'"{action}"' if action else '""'})
    binding._set_http_headers(serialized, operation)  # Content-Type (and action for SOAP 1.2)
    envelope_ns = binding.nsmap["soap-env"]
    return RequestEncoder(
        body=body,
        envelope_ns=envelope_ns,
        nsmap={"soap-env": envelope_ns, **client.wsdl.types._prefix_map_custom},
        http_headers=serialized.headers,
        client=client,
        operation=operation,
        address=address,
    )


def _part(operation: Any, message: Any, direction: str) -> Field:
    """The compiled part element of a document/literal message with one body part."""
    _check_document(operation, message, direction)
    if message._is_body_wrapped:
        raise NotCompilable(f"a {direction} of several body parts")
    if message.body is None:
        raise NotCompilable(f"a {direction} without a body part")
    return TypeCompiler().field(message.body.attr_name, message.body)


def _check_document(operation: Any, message: Any, direction: str) -> None:
    if operation.style != "document":
        raise NotCompilable(f"{operation.style} style")
    if type(message) is not DocumentMessage:
        raise NotCompilable(f"a {type(message).__name__} {direction}")
