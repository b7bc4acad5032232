"""CORS from configuration; with no origins configured, browsers get no cross-origin access."""

from __future__ import annotations

from aiohttp import web

from facade.settings import Cors

__all__ = ["CorsPolicy"]


class CorsPolicy:
    """Answers preflights and decorates answers to allowed origins, from the ``cors`` settings."""

    def __init__(self, cors: Cors) -> None:
        self._origins = set(cors.origins)
        self._any_origin = "*" in self._origins
        self._credentials = cors.credentials
        self._allow_headers = ", ".join(cors.allow_headers)
        self._expose_headers = ", ".join(cors.expose_headers)
        self._max_age = str(cors.max_age)

    def allowed(self, origin: str | None) -> bool:
        return origin is not None and (self._any_origin or origin in self._origins)

    def preflight(self, request: web.Request, origin: str | None) -> web.Response | None:
        """The answer to a CORS preflight (204, or 403 for an origin not allowed); None otherwise."""
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        if not self.allowed(origin):
            return web.Response(status=403, text="CORS: origin not allowed")
        answer = web.Response(status=204)
        self.decorate(answer, origin)
        answer.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
        answer.headers["Access-Control-Allow-Headers"] = self._allow_headers
        answer.headers["Access-Control-Max-Age"] = self._max_age
        return answer

    def decorate(self, response: web.StreamResponse, origin: str | None) -> None:
        """Let ``origin`` read ``response`` if it is allowed to."""
        if origin is None or not self.allowed(origin):
            return
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = (
            "*" if self._any_origin and not self._credentials else origin
        )
        headers.add("Vary", "Origin")
        if self._credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self._expose_headers:
            headers["Access-Control-Expose-Headers"] = self._expose_headers
