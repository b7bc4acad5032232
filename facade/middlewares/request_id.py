"""Give every request an id: the client's X-Request-ID if it is sane, a fresh one otherwise."""

from __future__ import annotations

import re
import secrets

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from facade.middlewares.keys import REQUEST_ID

__all__ = ["request_id_middleware"]

_HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")  # no spaces, quotes or control characters


def _new_id() -> str:
    return secrets.token_hex(12)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    offered = request.headers.get(_HEADER, "")
    request_id = offered if _ACCEPTABLE.match(offered) else _new_id()
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[_HEADER] = request_id
        raise
    response.headers[_HEADER] = request_id
    return response
