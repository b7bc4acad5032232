"""One JSON line per request: who asked what, what it cost, and what the backends did.

Backend attempts are collected through a context variable the runtime appends to, so the line
lists every call the request made (including retries and includes) with outcome and latency.
The cache outcome is read from the answer's Cache-Status; the caller from the auth principal.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiohttp import web

from facade.logs import ACCESS_LOG, request_context
from facade.middlewares.keys import PRINCIPAL_NAME

if TYPE_CHECKING:
    from facade.metrics import Metrics

__all__ = ["BACKEND_CALLS", "AccessRecorder", "record_backend_call", "route_template"]

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


class AccessRecorder:
    """Counts a finished request in the HTTP metrics (when given) and writes its access line."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics

    def record(
        self,
        request: web.Request,
        status: int,
        seconds: float,
        calls: list[dict[str, Any]],
        response: web.StreamResponse | None,
    ) -> None:
        path = request.path
        if path.startswith(_QUIET):
            return
        self.record_fields(
            request.method,
            path,
            route_template(request),
            status,
            seconds,
            calls,
            response.headers.get("Cache-Status") if response is not None else None,
            request.get(PRINCIPAL_NAME, "anonymous"),
        )

    def record_fields(
        self,
        method: str,
        path: str,
        route: str,
        status: int,
        seconds: float,
        calls: list[dict[str, Any]],
        cache: str | None,
        client: str,
        context: dict[str, Any] | None = None,
    ) -> None:
        """:meth:`record` from what it reads off the request; ``context`` is what the line
        carries besides (the current request's log context when None)."""
        if self.metrics is not None:
            self.metrics.http_request(route, method, status, seconds)
        ACCESS_LOG.emit(
            {
                "event": "request",
                **(request_context() if context is None else context),
                "method": method,
                "path": path,
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
                "backend_calls": calls,
                "cache": cache,
                "client": client,
            }
        )
