"""Turn every error into an RFC 9457 problem, and every unexpected exception into a logged 500."""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from facade.middlewares.keys import REQUEST_ID
from facade.problems import Problem

__all__ = ["problem_middleware"]

log = structlog.get_logger("veneer.http")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    404: ("route_not_found", "No such route"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("body_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.get(REQUEST_ID)
    try:
        return await handler(request)
    except Problem as problem:
        return problem.to_response(request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, title = _HTTP_CODES.get(exc.status, (f"http_{exc.status}", exc.reason))
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        detail = _detail(exc, request)
        return Problem(exc.status, code, title, detail, headers=headers).to_response(request_id)
    except Exception:
        log.exception("unhandled error", path=request.path, method=request.method)
        return Problem(
            500,
            "internal_error",
            "Internal error",
            "The gateway failed unexpectedly; quote the request id to support.",
        ).to_response(request_id)


def _detail(exc: web.HTTPException, request: web.Request) -> str | None:
    if exc.status == 404:
        return f"No route matches {request.path}."
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"{request.method} is not allowed here; allowed: {allowed}."
    return None
