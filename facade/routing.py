"""Serve the configured routes: one handler class, driven entirely by a compiled route.

A request becomes a scope (``path``, ``query``, ``body``, ``header``), the route's request
template turns the scope into operation params, the adapter calls the backend, and the response
template turns the result into the JSON the client sees. Handlers stay this short on purpose:
decisions live in the templates, the adapters and (later) the resilience policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
import structlog
from aiohttp import web

from adapters.base import Adapter
from adapters.errors import AdapterError
from adapters.mapping import ConversionError
from facade.backends import Backends, CompiledRoute
from facade.problems import Problem, problem_for_adapter_error

__all__ = ["RouteHandler", "add_routes", "json_response"]

log = structlog.get_logger("veneer.routes")
_WRITE_METHODS = {"POST", "PUT", "PATCH"}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


class RouteHandler:
    """Serves one configured route."""

    def __init__(self, compiled: CompiledRoute, adapter: Adapter) -> None:
        self.compiled = compiled
        self.adapter = adapter
        self.route = compiled.route
        self.label = f"{compiled.route.backend} system"

    async def handle(self, request: web.Request) -> web.Response:
        scope = {
            "path": dict(request.match_info),
            "query": dict(request.query),
            "header": request.headers,
            "body": await self._body(request),
        }
        try:
            params = self.compiled.request.render(scope)
        except ConversionError as exc:
            raise Problem(400, "invalid_parameter", "Invalid parameter", str(exc)) from exc
        try:
            result = await self.adapter.call(
                self.route.operation, params, timeout=self.route.timeout
            )
        except AdapterError as exc:
            log.warning(
                "backend call failed",
                backend=self.route.backend,
                operation=self.route.operation,
                error=type(exc).__name__,
                reason=str(exc),
            )
            raise problem_for_adapter_error(exc, backend_label=self.label) from exc
        if self.route.single and isinstance(result, list | tuple):
            result = result[0] if result else None
        if result is None and self.compiled.method == "GET":
            raise Problem(404, "not_found", "Not found", "The requested resource does not exist.")
        if self.compiled.response is None:
            return json_response(result)
        try:
            return json_response(self.compiled.response.render({**scope, "result": result}))
        except ConversionError as exc:
            log.warning("response mapping failed", route=self.compiled.key, reason=str(exc))
            raise Problem(
                502,
                "bad_gateway",
                "Bad gateway",
                f"The {self.label} sent a value the gateway could not convert.",
            ) from exc
        except AdapterError as exc:  # a converter that found a failure in the data (SAP RETURN)
            raise problem_for_adapter_error(exc, backend_label=self.label) from exc

    async def _body(self, request: web.Request) -> Any:
        if self.compiled.method not in _WRITE_METHODS:
            return None
        if not request.can_read_body:
            return {}
        if request.content_type != "application/json":
            raise Problem(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "Send the body as application/json.",
            )
        raw = await request.read()
        try:
            return orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise Problem(
                400, "invalid_json", "Invalid JSON", f"The body is not valid JSON: {exc}"
            ) from exc


def add_routes(app: web.Application, backends: Backends) -> None:
    for compiled in backends.routes.values():
        adapter = backends.adapters[compiled.route.backend]
        app.router.add_route(compiled.method, compiled.path, RouteHandler(compiled, adapter).handle)
