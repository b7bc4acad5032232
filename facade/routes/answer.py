"""A route's answer as HTTP: the complete :class:`Answer`, its headers, and the 304 instead of it.

The cache stores an :class:`Answer` and idempotency replays one; whether the client gets it or a
304 is decided last, by :func:`conditional`, so both serve conditional GETs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from facade.routes.compile import CompiledRoute
from facade.routes.representation import not_modified

__all__ = ["Answer", "conditional", "representation_headers"]

log = structlog.get_logger("veneer.routes")


@dataclass(frozen=True)
class Answer:
    """A complete answer, before conditionals: what the cache stores and idempotency replays."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    cacheable: bool = True

    def response(self, extra: Mapping[str, str] | None = None) -> web.Response:
        return web.Response(
            status=self.status, body=self.body, headers={**self.headers, **(extra or {})}
        )


def conditional(request: web.Request, response: web.Response) -> web.Response:
    """Answer 304 instead when the client already holds this representation."""
    etag = response.headers.get("ETag")
    if etag and response.status == 200 and not_modified(request.headers.get("If-None-Match"), etag):
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in {"content-type", "content-length"}
        }
        return web.Response(status=304, headers=headers)
    return response


def representation_headers(compiled: CompiledRoute, headers: dict[str, str], data: Any) -> None:
    """Add what the route declares about its representations: caching, deprecation, Location."""
    route = compiled.route
    if route.cache_control:
        headers["Cache-Control"] = route.cache_control
    elif compiled.method != "GET":
        headers["Cache-Control"] = "no-store"
    elif route.cache is not None:
        headers["Cache-Control"] = f"private, max-age={int(route.cache.ttl)}"
    else:
        headers["Cache-Control"] = "private, no-cache"
    if route.deprecation:
        headers["Deprecation"] = route.deprecation
    if route.sunset:
        headers["Sunset"] = route.sunset
    if route.location and isinstance(data, Mapping):
        try:
            headers["Location"] = route.location.format(**data)
        except (KeyError, IndexError):
            log.warning("location template names a missing field", route=compiled.key)
