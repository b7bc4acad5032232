"""RFC 9457 problem details: every error the gateway emits, with a stable code and the request id.

Clients branch on ``code`` (stable, documented in docs/errors.md), show ``title``/``detail`` to
people, and quote ``request_id`` to support. Nothing from a backend's internals (stack traces,
SOAP fault detail, credentials) ever goes into a problem: adapter errors are mapped here to a
fixed title and a generic detail; and every problem passes through the redactor on its way
out (:mod:`facade.redaction`), so a configured secret cannot leak even through a detail that
quotes something it should not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendTimeout,
    Conflict,
    InvalidRequest,
    NotFound,
    ProtocolError,
    TransientError,
)
from facade.redaction import redact
from resilience.errors import BreakerOpen, BulkheadFull, DeadlineExceeded, ResilienceError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "problem_for_adapter_error",
    "problem_for_resilience_error",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "https://veneer.readthedocs.io/errors/"


@dataclass
class Problem(Exception):
    """An error answer. Raise it from a handler; the request pipeline renders it."""

    status: int
    code: str
    title: str
    detail: str | None = None
    retry_after: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self, request_id: str | None) -> web.Response:
        body: dict[str, Any] = {
            "type": _TYPE_BASE + self.code.replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if request_id:
            body["request_id"] = request_id
        body.update(self.extra)
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(self.retry_after)))
        return web.Response(
            status=self.status,
            body=orjson.dumps(redact(body)),
            content_type=PROBLEM_CONTENT_TYPE,
            headers=headers,
        )


def problem_for_adapter_error(error: AdapterError, *, backend_label: str) -> Problem:
    """Map a backend failure to what a client may know about it, and nothing more."""
    if isinstance(error, NotFound):
        return Problem(404, "not_found", "Not found", "The requested resource does not exist.")
    if isinstance(error, Conflict):
        return Problem(
            409,
            "conflict",
            "Conflict",
            "The resource was changed by someone else; fetch it again and retry.",
        )
    if isinstance(error, AccessDenied):
        return Problem(
            502,
            "backend_access_denied",
            "Upstream access denied",
            f"The gateway's credentials for the {backend_label} were refused.",
        )
    if isinstance(error, InvalidRequest):
        return Problem(
            400,
            "invalid_request",
            "Invalid request",
            "The request cannot be translated for the backend system.",
        )
    if isinstance(error, BackendFault):
        return Problem(
            422,
            "backend_rejected",
            "Rejected by the backend system",
            f"The {backend_label} refused the operation.",
            extra={"backend_code": error.code} if error.code is not None else {},
        )
    if isinstance(error, BackendTimeout):
        return Problem(
            504,
            "backend_timeout",
            "Upstream timeout",
            f"The {backend_label} did not answer in time.",
            retry_after=error.retry_after,
        )
    if isinstance(error, TransientError):
        return Problem(
            503,
            "backend_unavailable",
            "Upstream unavailable",
            f"The {backend_label} is unavailable; try again shortly.",
            retry_after=error.retry_after if error.retry_after is not None else 1,
        )
    if isinstance(error, ProtocolError):
        return Problem(
            502,
            "bad_gateway",
            "Bad gateway",
            f"The {backend_label} sent a reply the gateway could not read.",
        )
    return Problem(502, "bad_gateway", "Bad gateway", f"The {backend_label} call failed.")


def problem_for_resilience_error(error: ResilienceError, *, backend_label: str) -> Problem:
    """The gateway itself declined or gave up: say when trying again makes sense."""
    if isinstance(error, BreakerOpen):
        return Problem(
            503,
            "backend_unavailable",
            "Upstream unavailable",
            f"The {backend_label} is failing; the gateway is letting it recover.",
            retry_after=error.retry_after if error.retry_after is not None else 30,
        )
    if isinstance(error, BulkheadFull):
        return Problem(
            503,
            "backend_busy",
            "Upstream busy",
            f"Too many requests are waiting for the {backend_label}; try again shortly.",
            retry_after=max(1.0, error.retry_after or 1.0),
        )
    if isinstance(error, DeadlineExceeded):
        return Problem(
            504,
            "backend_timeout",
            "Upstream timeout",
            f"The {backend_label} did not answer within this route's deadline.",
        )
    return Problem(
        503, "backend_unavailable", "Upstream unavailable", f"The {backend_label} is unavailable."
    )
