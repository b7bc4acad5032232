"""One JSON line per request: who asked what, what it cost, and what the backends did.

Backend attempts are collected through a context variable the runtime appends to, so the line
lists every call the request made (including retries and includes) with outcome and latency.
The cache outcome is read from the answer's Cache-Status; the caller from the auth principal.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from facade.logs import ACCESS_LOG, request_context
from facade.middlewares.keys import PRINCIPAL_NAME

if TYPE_CHECKING:
    from facade.metrics import Metrics

__all__ = [
    "BACKEND_CALLS",
    "AccessRecorder",
    "PreparedLine",
    "record_backend_call",
    "route_template",
]

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
        context = request_context() if context is None else context
        ACCESS_LOG.emit(
            _fields(method, path, route, status, seconds, calls, cache, client, context)
        )

    def prepared(
        self, method: str, path: str, route: str, client: str, caller: str | None
    ) -> PreparedLine:
        """What :meth:`record_fields` writes for requests of one shape, rendered once: a
        request of that shape then adds only its id, status, duration, cache status and the
        backend calls it made. ``caller`` is the line's ``caller`` field (None: the line has none)."""
        return PreparedLine(self, method, path, route, client, caller)


class PreparedLine:
    """The access line of one shape of request, as :meth:`AccessRecorder.record_fields` writes
    it (the same fields in the same order), with everything but the per-request values already
    rendered as JSON. The lanes write one per answer."""

    def __init__(
        self,
        recorder: AccessRecorder,
        method: str,
        path: str,
        route: str,
        client: str,
        caller: str | None,
    ) -> None:
        self.recorder = recorder
        self.method = method
        self.path = path
        self.route = route
        self.client = client
        self.caller = caller
        caller_field = "" if caller is None else f',"caller":{_json(caller)}'
        #: after the request id: the fields up to the status's value
        self._middle = (
            f'"{caller_field},"method":{_json(method)},"path":{_json(path)},'
            f'"route":{_json(route)},"status":'
        )
        self._client = f'"client":{_json(client)},'
        self._cache_json: dict[str, str] = {}

    def record(
        self,
        request_id: str,
        status: int,
        seconds: float,
        cache: str | None,
        calls: list[dict[str, Any]] | None = None,
    ) -> None:
        """Count the request and write its line. ``request_id`` is one the gateway accepts
        (plain characters only: :mod:`facade.middlewares.request_id`); ``calls`` are the
        backend calls it made (none: None)."""
        if ACCESS_LOG.stream is None:  # lines go through structlog: as fields
            context = {"request_id": request_id}
            if self.caller is not None:
                context["caller"] = self.caller
            self.recorder.record_fields(
                self.method,
                self.path,
                self.route,
                status,
                seconds,
                calls or [],
                cache,
                self.client,
                context,
            )
            return
        metrics = self.recorder.metrics
        if metrics is not None:
            metrics.http_request(self.route, self.method, status, seconds)
        cache_json = "null" if cache is None else self._cache_json.get(cache)
        if cache_json is None:
            assert cache is not None
            if len(self._cache_json) >= _CACHE_VALUES:
                self._cache_json.clear()
            cache_json = self._cache_json[cache] = _json(cache)
        calls_json = orjson.dumps(calls).decode() if calls else "[]"
        ACCESS_LOG.emit_json(
            f'{{"event":"request","request_id":"{request_id}{self._middle}{status},'
            f'"ms":{seconds * 1000:.1f},"backend_calls":{calls_json},"cache":{cache_json},'
            f"{self._client}"
        )


def _fields(
    method: str,
    path: str,
    route: str,
    status: int,
    seconds: float,
    calls: list[dict[str, Any]],
    cache: str | None,
    client: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """An access line's fields, in the order it shows them."""
    return {
        "event": "request",
        **context,
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "ms": round(seconds * 1000, 1),
        "backend_calls": calls,
        "cache": cache,
        "client": client,
    }


#: distinct cache-status values a prepared line keeps rendered (one per ttl second left)
_CACHE_VALUES = 256


def _json(value: str) -> str:
    return orjson.dumps(value).decode()
