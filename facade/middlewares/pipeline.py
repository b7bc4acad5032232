"""The gateway's one middleware: every stage a request passes, in order, as straight-line code.

Outermost first, a request

1. gets its id (``X-Request-ID``) and a fresh log context;
2. starts its access line and collects the backend calls it makes;
3. is answered at once if it is a CORS preflight;
4. is refused if a header value carries a control character;
5. is authenticated and its scopes checked (``/api`` routes);
6. draws a token from its caller's rate-limit bucket (``/api`` routes);
7. reaches the route's handler.

On the way out every error becomes an RFC 9457 problem, the body is compressed if worth it, the
CORS and request-id headers are added, the access line is written and the request is counted
out of the configuration generation it was resolved against.

These were once nine aiohttp middlewares; as stages of one coroutine they do the same work
without nine coroutine frames, nine ``try`` blocks and a handler chain per request, which on
a cached GET was more than the work itself (architecture decision 34).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from facade.logs import start_request
from facade.middlewares.access_log import BACKEND_CALLS, AccessRecorder
from facade.middlewares.auth import Credentials, authorize
from facade.middlewares.compression import compress
from facade.middlewares.cors import CorsPolicy
from facade.middlewares.headers import guard_headers
from facade.middlewares.keys import PINNED, REQUEST_ID
from facade.middlewares.problems import problem_answer
from facade.middlewares.ratelimit import Limits, draw_token
from facade.middlewares.request_id import REQUEST_ID_HEADER, request_id_for
from facade.problems import Problem

__all__ = ["Security", "pipeline"]


class Security(Credentials, Limits, Protocol):
    """What the pipeline consults on every request; a reload swaps what it holds in place."""


def pipeline(*, security: Security, cors: CorsPolicy, recorder: AccessRecorder) -> Middleware:
    async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Stages 4 to 7; raises whatever should become a problem."""
        guard_headers(request)
        access = await authorize(security, request)
        if access is None:
            return await handler(request)
        limit_headers = await draw_token(security, request, access)
        if limit_headers is None:
            return await handler(request)
        try:
            response = await handler(request)
        except (Problem, web.HTTPException) as exc:
            exc.headers.update(limit_headers)
            raise
        response.headers.update(limit_headers)
        return response

    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        pinned = request.get(PINNED)
        request_id = request_id_for(request)
        request[REQUEST_ID] = request_id
        start_request(request_id)
        calls: list[dict[str, Any]] = []
        token = BACKEND_CALLS.set(calls)
        started = perf_counter()
        status = 500
        response: web.StreamResponse | None = None
        try:
            origin = request.headers.get("Origin")
            response = cors.preflight(request, origin)
            if response is None:
                try:
                    response = await guarded(request, handler)
                except web.HTTPException as exc:
                    if exc.status < 400:
                        raise
                    response = problem_answer(request, exc, request_id)
                except Exception as exc:
                    response = problem_answer(request, exc, request_id)
                compress(request, response)
                cors.decorate(response, origin)
            response.headers[REQUEST_ID_HEADER] = request_id
            status = response.status
            return response
        except web.HTTPException as exc:  # a redirect, raised as aiohttp allows
            exc.headers[REQUEST_ID_HEADER] = request_id
            status = exc.status
            raise
        finally:
            BACKEND_CALLS.reset(token)
            recorder.record(request, status, perf_counter() - started, calls, response)
            if pinned is not None:
                pinned.leave()

    return web.middleware(gateway)
