"""CORS from configuration; with no origins configured, browsers get no cross-origin access."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from facade.settings import Cors

__all__ = ["cors_middleware"]


def cors_middleware(cors: Cors) -> Middleware:
    origins = set(cors.origins)
    any_origin = "*" in origins
    allow_headers = ", ".join(cors.allow_headers)
    expose_headers = ", ".join(cors.expose_headers)

    def allowed(origin: str | None) -> bool:
        return origin is not None and (any_origin or origin in origins)

    def decorate(response: web.StreamResponse, origin: str) -> None:
        response.headers["Access-Control-Allow-Origin"] = (
            "*" if any_origin and not cors.credentials else origin
        )
        response.headers.add("Vary", "Origin")
        if cors.credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        if expose_headers:
            response.headers["Access-Control-Expose-Headers"] = expose_headers

    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        if preflight:
            if not allowed(origin):
                return web.Response(status=403, text="CORS: origin not allowed")
            assert origin is not None
            answer = web.Response(status=204)
            decorate(answer, origin)
            answer.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
            answer.headers["Access-Control-Allow-Headers"] = allow_headers
            answer.headers["Access-Control-Max-Age"] = str(cors.max_age)
            return answer
        response = await handler(request)
        if allowed(origin):
            assert origin is not None
            decorate(response, origin)
        return response

    return web.middleware(middleware)
