"""The one place where SOAP faults and zeep/lxml errors become the adapter error tree.

=====================================================  =========================================
raised underneath                                      raised to the gateway
=====================================================  =========================================
SOAP fault matching a fault rule (options, then the    the rule's error: ``NotFound``,
built-in :data:`DEFAULT_FAULT_RULES`)                  ``Conflict``, ``AccessDenied``,
                                                       ``BackendUnavailable``, ``InvalidRequest``
                                                       or ``BackendFault``
SOAP 1.1 ``Client*`` / 1.2 ``Sender`` fault            ``BackendFault`` (permanent)
SOAP 1.1 ``Server*`` / 1.2 ``Receiver`` fault          ``BackendFault``; ``BackendUnavailable``
                                                       with ``transient_server_faults: true``
any other fault code (VersionMismatch ...)             ``BackendFault``
HTTP 401/403 without a SOAP envelope                   ``AccessDenied``
non-XML, HTML, malformed or truncated XML, a DTD,      ``ProtocolError``
entities, no Envelope/Body, non-200 without a fault
a reply zeep cannot read with the WSDL's schema        ``ProtocolError`` (try ``strict: false``)
params zeep cannot build (unknown name, missing        ``InvalidRequest``
required element, wrong type)
=====================================================  =========================================

HTTP 429/502/503/504 never get here: ``adapters.http.raise_for_unavailable`` makes them
``BackendUnavailable`` with Retry-After first. A fault's message is its faultstring, cut to 200
characters, for operators' logs; the fault detail (often a stack trace) is only matched against,
never kept. ``code`` is the faultcode as sent (``soap:Client``), followed for SOAP 1.2 by the
subcodes' local names (``env:Sender/Client.Refused``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lxml import etree
from zeep import exceptions as zeep_errors

from adapters.erp.envelope import NotSoapReply
from adapters.erp.options import FaultRule, SoapOptions
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    ProtocolError,
)

__all__ = ["DEFAULT_FAULT_RULES", "FaultPolicy", "translate"]

#: Tried after the options' own rules, unless ``default_fault_rules: false``.
DEFAULT_FAULT_RULES: tuple[FaultRule, ...] = (
    FaultRule(
        match=r"INVALID_LOGIN|invalid login|authenticat|not authori[sz]ed|access (is )?denied",
        error="access_denied",
    ),
    FaultRule(match=r"another user has modified|modified .* after you retrieved", error="conflict"),
    FaultRule(match=r"does not exist|not found|no such", error="not_found"),
    FaultRule(
        match=r"deadlock|temporarily unavailable|server (is )?(too )?busy|try again later",
        error="unavailable",
    ),
)
_ERRORS: dict[str, type[AdapterError]] = {
    "not_found": NotFound,
    "conflict": Conflict,
    "access_denied": AccessDenied,
    "unavailable": BackendUnavailable,
    "invalid": InvalidRequest,
    "fault": BackendFault,
}
_MESSAGE_LIMIT = 200
_HOSTILE = (
    zeep_errors.XMLSyntaxError,
    zeep_errors.DTDForbidden,
    zeep_errors.EntitiesForbidden,
    zeep_errors.ExternalReferenceForbidden,
)


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    """Compiled fault rules, and whether server faults are worth retrying."""

    rules: tuple[tuple[re.Pattern[str], type[AdapterError]], ...]
    transient_server_faults: bool = False

    @classmethod
    def from_options(cls, options: SoapOptions) -> FaultPolicy:
        rules = options.fault_rules + (DEFAULT_FAULT_RULES if options.default_fault_rules else ())
        compiled = tuple((re.compile(r.match, re.IGNORECASE), _ERRORS[r.error]) for r in rules)
        return cls(compiled, options.transient_server_faults)

    def classify(self, code: str, text: str) -> type[AdapterError]:
        for pattern, error in self.rules:
            if pattern.search(text):
                return error
        local = code.rpartition(":")[2].lower()
        if local.startswith(("server", "receiver")) and self.transient_server_faults:
            return BackendUnavailable
        return BackendFault


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _detail_text(detail: object) -> str:
    if isinstance(detail, etree._Element):
        return " ".join(detail.itertext())
    return str(detail or "")


def translate(
    exc: BaseException,
    *,
    stage: Literal["request", "reply"],
    backend: str,
    operation: str,
    policy: FaultPolicy,
) -> AdapterError:
    """The adapter error for ``exc``, raised while building a request or reading a reply."""

    def error(cls: type[AdapterError], message: str, code: str | int | None = None) -> AdapterError:
        return cls(message, code=code, backend=backend, operation=operation)

    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, zeep_errors.Fault):
        code = str(exc.code or "")
        kind = policy.classify(code, "\n".join((code, exc.message or "", _detail_text(exc.detail))))
        subcodes = [etree.QName(sub).localname for sub in exc.subcodes or ()]
        code = "/".join((code, *subcodes))  # SOAP 1.2: soap:Sender/Client.Refused
        return error(kind, _short(exc.message) or "SOAP fault without a faultstring", code or None)
    if isinstance(exc, NotSoapReply):
        if exc.status in (401, 403):
            return error(AccessDenied, f"HTTP {exc.status}: {exc.reason}", exc.status)
        return error(ProtocolError, exc.reason, exc.status)
    if isinstance(exc, etree.XMLSyntaxError):
        return error(ProtocolError, f"the reply is not well-formed XML: {_short(str(exc))}")
    if isinstance(exc, _HOSTILE):
        return error(ProtocolError, f"hostile or malformed XML: {_short(str(exc))}")
    if stage == "request":  # str() of zeep's ValidationError names the path: (Read.No)
        return error(InvalidRequest, f"cannot build the request: {_short(str(exc))}")
    detail = _short(getattr(exc, "message", None) or str(exc))
    return error(
        ProtocolError,
        f"the reply does not match the WSDL ({type(exc).__name__}: {detail}); "
        "strict: false tolerates servers that deviate",
    )
