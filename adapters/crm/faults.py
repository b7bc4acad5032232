"""The one place where XML-RPC failures become the adapter error tree.

Everything an XML-RPC call can fail with passes through :func:`translated_errors`:

=======================================================  ==========================================
failure                                                  raised
=======================================================  ==========================================
connection refused/reset, timeouts (from the transport)  ConnectFailed, BackendTimeout (as given)
HTTP 429/502/503/504                                     BackendUnavailable (with Retry-After)
other HTTP 5xx                                           BackendUnavailable
HTTP 401/403 (an authenticating proxy)                   AccessDenied
other HTTP status but 200                                ProtocolError
body not one harmless methodResponse, or oversize        ProtocolError
params XML-RPC cannot carry                              InvalidRequest
Odoo fault 1 (application error, a traceback)            BackendFault, last traceback line only
Odoo fault 2 "Record does not exist or has been deleted" NotFound
Odoo fault 2 "Object <model> doesn't exist"              InvalidRequest
Odoo fault 2 (user error, validation)                    BackendFault
Odoo fault 3 (access denied: credentials, uid)           AccessDenied, code 3
Odoo fault 4 (access error: not allowed)                 AccessDenied, code 4
legacy ``AccessDenied``                                  AccessDenied
legacy ``warning -- MissingError``                       NotFound
legacy ``warning -- AccessError``                        AccessDenied
legacy ``warning -- <other>``                            BackendFault
legacy fault whose code is an error message              BackendFault (the message, not the trace)
generic fault -32600/-32601/-32602/-32700                InvalidRequest
any other generic fault                                  BackendFault, code = faultCode
=======================================================  ==========================================

Fault strings are cut to one line (Odoo's fault 1 carries the server's traceback, which must not
travel further than this function) and any configured secret is blanked out of them.
"""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from adapters.crm.codec import CannotMarshal, MalformedReply
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendTimeout,
    BackendUnavailable,
    InvalidRequest,
    NotFound,
    ProtocolError,
)
from adapters.http import HttpReply, raise_for_unavailable

__all__ = [
    "FaultMapper",
    "check_status",
    "generic_fault",
    "is_access_denied",
    "odoo_fault",
    "translated_errors",
]

#: Turns a fault into (error class, message, code); the message may still hold secrets.
FaultMapper = Callable[[xmlrpc.client.Fault], tuple[type[AdapterError], str, str | int | None]]

_MAX_MESSAGE = 300
_MISSING_RECORD = "Record does not exist or has been deleted"
_UNKNOWN_MODEL = re.compile(r"^Object \S+ doesn't exist")
_LEGACY_WARNING = re.compile(r"^warning -- (\w+)$")
_SPEC_REQUEST_FAULTS = {-32700, -32600, -32601, -32602}  # parse, request, method, params


@contextmanager
def translated_errors(
    *, backend: str, operation: str, faults: FaultMapper, secrets: Iterable[str | None] = ()
) -> Iterator[None]:
    """Raise every failure inside the block as an :class:`AdapterError`, from the original.

    ``CancelledError`` is not an ``Exception`` and passes untouched. Exceptions that are none of
    the above are bugs, not backend conditions, and propagate as they are.
    """
    try:
        yield
    except Exception as exc:
        error = translate(
            exc, backend=backend, operation=operation, faults=faults, secrets=tuple(secrets)
        )
        if error is None:
            raise
        raise error from exc


def translate(
    exc: Exception,
    *,
    backend: str,
    operation: str,
    faults: FaultMapper,
    secrets: tuple[str | None, ...],
) -> AdapterError | None:
    """The adapter error for ``exc``, or None when it is not a backend condition."""
    if isinstance(exc, AdapterError):  # the transport's and ours: fill in where it happened
        return type(exc)(
            _redact(exc.message, secrets),
            backend=exc.backend or backend,
            operation=exc.operation or operation,
            code=exc.code,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, xmlrpc.client.Fault):
        cls, message, code = faults(exc)
        return cls(_redact(message, secrets), backend=backend, operation=operation, code=code)
    if isinstance(exc, MalformedReply):
        message = f"malformed XML-RPC reply: {_redact(str(exc), secrets)}"
        return ProtocolError(message, backend=backend, operation=operation)
    if isinstance(exc, CannotMarshal):
        message = f"cannot marshal the params: {_redact(str(exc), secrets)}"
        return InvalidRequest(message, backend=backend, operation=operation)
    if isinstance(exc, TimeoutError):
        return BackendTimeout("the call's deadline passed", backend=backend, operation=operation)
    return None


def check_status(reply: HttpReply, *, backend: str, operation: str) -> None:
    """Raise for any HTTP status but 200 (XML-RPC servers answer faults with 200 too)."""
    status = reply.status
    if status == 200:
        return
    raise_for_unavailable(reply, backend=backend, operation=operation)
    cls: type[AdapterError] = ProtocolError
    message = f"HTTP {status} where an XML-RPC reply was expected"
    if status >= 500:
        cls, message = BackendUnavailable, f"HTTP {status}"
    elif status in (401, 403):
        cls, message = AccessDenied, f"HTTP {status} from the XML-RPC endpoint"
    raise cls(message, backend=backend, operation=operation, code=status)


def is_access_denied(fault: xmlrpc.client.Fault) -> bool:
    """Odoo's "your uid/password/API key is not (or no longer) valid": log in again."""
    return fault.faultCode in (3, "AccessDenied")


def odoo_fault(fault: xmlrpc.client.Fault) -> tuple[type[AdapterError], str, str | int | None]:
    """Odoo's faults, integer codes (``/xmlrpc/2``) and string codes (``/xmlrpc``)."""
    code, text = fault.faultCode, str(fault.faultString)
    if isinstance(code, str):
        return _odoo_legacy_fault(code, text)
    if code == 1:
        return BackendFault, f"application error: {_last_line(text)}", 1
    if code == 2:
        if _MISSING_RECORD in text:
            return NotFound, _one_line(text), 2
        if _UNKNOWN_MODEL.match(text):
            return InvalidRequest, _one_line(text), 2
        return BackendFault, _one_line(text), 2
    if code == 3:
        return AccessDenied, "access denied: login, password/API key or uid refused", 3
    if code == 4:
        return AccessDenied, _one_line(text), 4
    return BackendFault, _last_line(text), code


def _odoo_legacy_fault(code: str, text: str) -> tuple[type[AdapterError], str, str | int | None]:
    if code == "AccessDenied":
        return AccessDenied, "access denied: login, password/API key or uid refused", code
    head, _, rest = code.partition("\n\n")
    warning = _LEGACY_WARNING.match(head.strip())
    if warning is None:  # an unexpected error: the code is its message, the string its traceback
        return BackendFault, f"application error: {_last_line(code)}", None
    kind, message = warning[1], _one_line(rest or text)
    if kind == "MissingError" or _MISSING_RECORD in message:
        return NotFound, message, kind
    if kind == "AccessError":
        return AccessDenied, message, kind
    if _UNKNOWN_MODEL.match(message):
        return InvalidRequest, message, kind
    return BackendFault, message, kind


def generic_fault(fault: xmlrpc.client.Fault) -> tuple[type[AdapterError], str, str | int | None]:
    """Any XML-RPC server: the spec's request-level codes are our mistake, the rest its "no"."""
    code, text = fault.faultCode, _last_line(str(fault.faultString))
    if code in _SPEC_REQUEST_FAULTS:
        return InvalidRequest, text, code
    return BackendFault, text, code


def _last_line(text: str) -> str:
    """The last non-empty line: of a traceback, the exception type and message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _clip(lines[-1] if lines else "(no message)")


def _one_line(text: str) -> str:
    return _clip(" ".join(text.split()) or "(no message)")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _redact(text: str, secrets: tuple[str | None, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
