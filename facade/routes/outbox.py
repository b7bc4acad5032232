"""Writes the backend cannot take now: stored durably, answered 202, delivered later.

On a route with ``outbox:``, a write refused before it could reach the backend (breaker open,
bulkhead full, connection refused, the backend's own "unavailable") is committed to the outbox
and answered ``202 Accepted`` with ``Location: /api/v1/operations/{id}``. Timeouts are not
queued: the backend may have applied the write, and only the client, retrying with an
Idempotency-Key, can resolve that. The worker delivers in order per resource once the backend's
breaker lets calls through; after ``max_attempts`` an entry is dead-lettered for an operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiohttp import web

from adapters.errors import BackendUnavailable, ConnectFailed
from facade.middlewares.keys import PRINCIPAL
from facade.problems import Problem
from facade.routes.inputs import WRITES
from facade.routes.representation import canonical_json
from facade.security.principal import ANONYMOUS
from resilience import BreakerOpen, BulkheadFull, Outbox, OutboxEntry

if TYPE_CHECKING:
    from facade.routes.handler import HandlerContext, RouteHandler
    from facade.routes.inputs import Inputs
    from facade.runtime import Runtime

__all__ = [
    "OPERATIONS_PATH",
    "Queued",
    "add_operations_route",
    "deliverer",
    "enqueue_write",
    "queueable",
    "queues",
]

log = structlog.get_logger("veneer.outbox")
OPERATIONS_PATH = "/api/v1/operations"


class Queued(Exception):
    """Raised through the handler when a write was stored for later delivery."""

    def __init__(self, entry: OutboxEntry) -> None:
        super().__init__(entry.id)
        self.entry = entry


def queueable(error: BaseException) -> bool:
    """Failures that prove the write never reached the backend, so delivering it later is safe."""
    return isinstance(error, BreakerOpen | BulkheadFull | ConnectFailed | BackendUnavailable)


def queues(handler: RouteHandler, problem: Problem) -> bool:
    """Whether a write that failed with ``problem`` is stored for later instead."""
    return (
        handler.route.outbox is not None
        and handler.context.outbox is not None
        and handler.compiled.method in WRITES
        and problem.__cause__ is not None
        and queueable(problem.__cause__)
    )


def jsonable(value: Any) -> Any:
    return orjson.loads(canonical_json(value))


async def enqueue(
    outbox: Outbox,
    *,
    route_key: str,
    backend: str,
    operation: str,
    params: Any,
    path: Mapping[str, Any],
    resource: str | None,
    idempotency_key: str | None,
    max_attempts: int,
    request_id: str | None,
    caller: str | None = None,
) -> OutboxEntry:
    wrapped = {"route": route_key, "path": dict(path), "params": jsonable(params)}
    if caller is not None:
        wrapped["caller"] = caller
    entry = await outbox.enqueue(
        backend=backend,
        operation=operation,
        params=wrapped,
        resource=resource,
        idempotency_key=idempotency_key,
        max_attempts=max_attempts,
        request_id=request_id,
    )
    log.info("write queued", id=entry.id, backend=backend, operation=operation, resource=resource)
    return entry


async def enqueue_write(handler: RouteHandler, params: Any, inputs: Inputs) -> OutboxEntry:
    """Store the route's write, rendered as ``params``, under its resource (if it names one)."""
    assert handler.route.outbox is not None and handler.context.outbox is not None
    resource_param = handler.route.outbox.resource
    resource = None
    if resource_param is not None and resource_param in inputs.path:
        resource = f"{handler.route.backend}:{inputs.path[resource_param]}"
    return await enqueue(
        handler.context.outbox,
        route_key=handler.compiled.key,
        backend=handler.route.backend,
        operation=handler.route.operation,
        params=params,
        path=inputs.path,
        resource=resource,
        idempotency_key=inputs.idempotency_key,
        max_attempts=handler.route.outbox.max_attempts,
        request_id=inputs.headers.get("X-Request-ID"),
        caller=inputs.caller,
    )


def accepted(entry: OutboxEntry) -> web.Response:
    href = f"{OPERATIONS_PATH}/{entry.id}"
    body = canonical_json(
        {
            "id": entry.id,
            "status": entry.status,
            "href": href,
            "submitted_at": entry.created_at.isoformat().replace("+00:00", "Z"),
        }
    )
    return web.Response(
        status=202,
        body=body,
        content_type="application/json",
        headers={"Location": href, "Cache-Control": "no-store"},
    )


def view(entry: OutboxEntry, context: HandlerContext) -> dict[str, Any]:
    """What a client may know about a queued write: never the backend's error text."""
    wrapped = entry.params
    out: dict[str, Any] = {
        "id": entry.id,
        "status": entry.status,
        "operation": wrapped.get("route"),
        "attempts": entry.attempts,
        "max_attempts": entry.max_attempts,
        "submitted_at": entry.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": entry.updated_at.isoformat().replace("+00:00", "Z"),
        "result": None,
    }
    if entry.status in {"queued", "delivering"}:
        out["next_attempt_at"] = entry.next_attempt_at.isoformat().replace("+00:00", "Z")
    if entry.status == "done":
        handler = context.handlers.get(wrapped.get("route", ""))
        scope = {"path": wrapped.get("path", {}), "query": {}, "result": entry.result}
        out["result"] = handler.map_result(scope, entry.result) if handler else entry.result
    if entry.status == "dead":
        out["error"] = {
            "code": "delivery_failed",
            "title": "The backend system refused or kept failing this write; an operator has been told.",
        }
    return out


def _visible(entry: OutboxEntry, request: web.Request) -> bool:
    """An operation is its submitter's: another caller is told it does not exist."""
    owner = entry.params.get("caller")
    return owner is None or owner == request.get(PRINCIPAL, ANONYMOUS).id


def add_operations_route(
    app: web.Application, outbox: Outbox, context: Callable[[], HandlerContext]
) -> None:
    """``context()`` is the handlers' context of the configuration in service."""

    async def show(request: web.Request) -> web.Response:
        entry = await outbox.get(request.match_info["id"])
        if entry is None or not _visible(entry, request):
            raise Problem(404, "not_found", "Not found", "No such operation.")
        return web.Response(
            body=canonical_json(view(entry, context())),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    app.router.add_get(OPERATIONS_PATH + "/{id:[0-9a-f]+}", show)


def deliverer(runtime: Runtime) -> Any:
    """The worker's delivery: the same policy as a live call, made retry-safe by the stored key."""

    async def deliver(entry: OutboxEntry) -> Any:
        generation = runtime.generation  # the configuration in service now, not at enqueueing
        adapter = generation.backends.adapters.get(entry.backend)
        if adapter is None:  # a reload removed the backend: this write can never be delivered
            raise LookupError(f"backend {entry.backend!r} is no longer configured")
        params = entry.params["params"]
        result = await generation.policies[entry.backend].call(
            lambda remaining: adapter.call(entry.operation, params, timeout=remaining),
            operation=entry.operation,
            deadline=runtime.deadline(entry.backend, None),
            idempotent=False,  # one attempt per delivery; the worker schedules the next
        )
        log.info("write delivered", id=entry.id, backend=entry.backend, operation=entry.operation)
        return jsonable(result)

    return deliver
