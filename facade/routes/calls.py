"""A route's backend calls: params rendered from the request, the call, the result mapped back.

A backend's failures become problems here, with the backend named only by its label ("ERP
backend"). A listing maps each item of one call's result and keeps a bookmark for the next page;
a fan-out makes one call per value, concurrently, and reports a value that found nothing in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from adapters.errors import AdapterError, Conflict, NotFound
from adapters.mapping import ConversionError
from facade.problems import Problem, problem_for_adapter_error, problem_for_resilience_error
from facade.routes.paging import Page, next_state
from facade.routes.params import FieldError, validation_problem
from resilience.errors import ResilienceError

if TYPE_CHECKING:
    from facade.routes.handler import RouteHandler

__all__ = ["Produced", "call_backend", "fan_out", "map_response", "paginate", "render_params"]

log = structlog.get_logger("veneer.routes")


@dataclass
class Produced:
    data: Any
    etag_token: str | None = None
    next_state: dict[str, Any] | None = None


def render_params(handler: RouteHandler, scope: Mapping[str, Any]) -> Any:
    try:
        return handler.compiled.request.render(scope)
    except ConversionError as exc:
        raise Problem(400, "invalid_parameter", "Invalid parameter", str(exc)) from exc


def map_response(handler: RouteHandler, scope: Mapping[str, Any], fallback: Any) -> Any:
    if handler.compiled.response is None:
        return fallback
    try:
        return handler.compiled.response.render(scope)
    except ConversionError as exc:
        log.warning("response mapping failed", route=handler.compiled.key, reason=str(exc))
        raise Problem(
            502,
            "bad_gateway",
            "Bad gateway",
            f"The {handler.label} sent a value the gateway could not convert.",
        ) from exc
    except AdapterError as exc:  # a converter found a failure in the data (SAP RETURN)
        raise problem_for_adapter_error(exc, backend_label=handler.label) from exc


async def call_backend(
    handler: RouteHandler, params: Any, *, if_match: bool, keyed: bool = False
) -> Any:
    # A write may be retried only when the client made it safe with an Idempotency-Key.
    try:
        return await handler.caller.call(
            handler.route.backend,
            handler.route.operation,
            params,
            timeout=handler.route.timeout,
            idempotent=handler.compiled.read_only or keyed,
        )
    except ResilienceError as exc:
        # Declined without calling (breaker open, bulkhead full ...): an outage repeats this
        # on every request, and every request's access line records it already.
        held_back = handler.context.declines.admit((handler.route.backend, type(exc)))
        if held_back is not None:
            log.warning(
                "backend call declined",
                backend=handler.route.backend,
                operation=handler.route.operation,
                error=type(exc).__name__,
                reason=str(exc),
                held_back=held_back,
            )
        raise problem_for_resilience_error(exc, backend_label=handler.label) from exc
    except AdapterError as exc:
        log.warning(
            "backend call failed",
            backend=handler.route.backend,
            operation=handler.route.operation,
            error=type(exc).__name__,
            reason=str(exc),
        )
        if isinstance(exc, Conflict) and if_match:
            raise Problem(
                412,
                "precondition_failed",
                "Precondition failed",
                "The resource changed since that ETag was issued; fetch it again.",
            ) from exc
        if isinstance(exc, NotFound) and handler.compiled.method in {"POST", "PUT"}:
            raise Problem(
                422,
                "reference_not_found",
                "Unprocessable request",
                f"The {handler.label} refused the request: a record it refers to does not exist.",
            ) from exc
        raise problem_for_adapter_error(exc, backend_label=handler.label) from exc


def paginate(
    handler: RouteHandler, scope: dict[str, Any], result: Any, page: Page, token: str | None
) -> Produced:
    assert handler.compiled.items is not None and handler.route.pagination is not None
    items = handler.compiled.items.render({**scope, "result": result}) or []
    if not isinstance(items, list | tuple):
        items = [items]
    more = len(items) > page.limit
    items = list(items[: page.limit])
    data = [
        map_response(handler, {**scope, "result": result, "item": item}, item) for item in items
    ]
    state = None
    if more and items:
        bookmark = (
            handler.compiled.bookmark.render({"item": items[-1]})
            if handler.compiled.bookmark
            else None
        )
        state = next_state(handler.route.pagination, page, bookmark)
    return Produced(data, token, state)


async def fan_out(
    handler: RouteHandler, scope: dict[str, Any], over: str, alias: str, most: int
) -> Produced:
    root, _, name = over.partition(".")
    values = scope.get(root, {}).get(name) or []
    if not isinstance(values, list):
        values = [values]
    if len(values) > most:
        raise validation_problem([FieldError(over, f"at most {most} values")])
    calls = [
        call_backend(handler, render_params(handler, {**scope, alias: value}), if_match=False)
        for value in values
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    data = []
    for value, result in zip(values, results, strict=True):
        if isinstance(result, Problem) and result.code == "not_found":
            data.append({alias: value, "error": {"code": result.code, "title": result.title}})
        elif isinstance(result, BaseException):
            raise result
        else:
            data.append(map_response(handler, {**scope, alias: value, "result": result}, result))
    return Produced(data)
