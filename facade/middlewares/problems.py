"""Turn every error into an RFC 9457 problem, and every unexpected exception into a logged 500."""

from __future__ import annotations

import structlog
from aiohttp import web

from facade.problems import Problem

__all__ = ["problem_answer", "problem_for"]

log = structlog.get_logger("veneer.http")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    404: ("route_not_found", "No such route"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("body_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def problem_answer(request: web.Request, error: Exception, request_id: str) -> web.Response:
    """The RFC 9457 answer for ``error`` raised while serving ``request``.

    A :class:`Problem` is rendered as it is; aiohttp's HTTP errors (404, 405, 413 ...) get a
    stable code; anything else is logged with its traceback and becomes a bare 500. The caller
    re-raises an ``HTTPException`` below 400 (a redirect) instead of asking.
    """
    return problem_for(error, request_id, request.method, request.path)


def problem_for(error: Exception, request_id: str, method: str, path: str) -> web.Response:
    """:func:`problem_answer` for a request known by its method and path alone."""
    if isinstance(error, Problem):
        return error.to_response(request_id)
    if isinstance(error, web.HTTPException):
        code, title = _HTTP_CODES.get(error.status, (f"http_{error.status}", error.reason))
        headers = {k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After")}
        detail = _detail(error, method, path)
        return Problem(error.status, code, title, detail, headers=headers).to_response(request_id)
    log.exception("unhandled error", path=path, method=method)
    return Problem(
        500,
        "internal_error",
        "Internal error",
        "The gateway failed unexpectedly; quote the request id to support.",
    ).to_response(request_id)


def _detail(exc: web.HTTPException, method: str, path: str) -> str | None:
    if exc.status == 404:
        return f"No route matches {path}."
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"{method} is not allowed here; allowed: {allowed}."
    return None
