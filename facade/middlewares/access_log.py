"""One JSON line per request: who asked what, what it cost, and what the backends did.

Backend attempts are collected through a context variable the runtime appends to, so the line
lists every call the request made (including retries and includes) with outcome and latency.
The cache outcome is read from the answer's Cache-Status; the caller from the auth principal.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from facade.logs import ACCESS_LOG
from facade.middlewares.keys import PRINCIPAL_NAME

if TYPE_CHECKING:
    from facade.metrics import Metrics

__all__ = ["BACKEND_CALLS", "access_log_middleware", "record_backend_call", "route_template"]

BACKEND_CALLS: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "veneer_backend_calls", default=None
)
_QUIET = ("/healthz", "/readyz", "/metrics", "/ops/events")


def record_backend_call(backend: str, operation: str, outcome: str, seconds: float) -> None:
    calls = BACKEND_CALLS.get()
    if calls is not None and len(calls) < 50:
        calls.append(
            {
                "backend": backend,
                "operation": operation,
                "outcome": outcome,
                "ms": round(seconds * 1000, 1),
            }
        )


def route_template(request: web.Request) -> str:
    """The matched route as configured (``/api/v1/orders/{no}``): bounded, unlike raw paths."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def access_log_middleware(metrics: Metrics | None = None) -> Middleware:
    """Time each request once: one access line, and the HTTP metrics when ``metrics`` is given."""

    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        calls: list[dict[str, Any]] = []
        token = BACKEND_CALLS.set(calls)
        started = time.perf_counter()
        status = 500
        response: web.StreamResponse | None = None
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            BACKEND_CALLS.reset(token)
            if not request.path.startswith(_QUIET):
                seconds = time.perf_counter() - started
                route = route_template(request)
                if metrics is not None:
                    metrics.http_request(route, request.method, status, seconds)
                ACCESS_LOG.write(
                    "request",
                    {
                        "method": request.method,
                        "path": request.path,
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 1),
                        "backend_calls": calls,
                        "cache": (
                            response.headers.get("Cache-Status") if response is not None else None
                        ),
                        "client": request.get(PRINCIPAL_NAME, "anonymous"),
                    },
                )

    return web.middleware(observe)
