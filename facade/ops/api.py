"""The operators' HTTP API: see and steer breakers, replay or discard dead-lettered writes.

Reading may be opened by configuration; every change needs the ops admin credential and is
audited (who, when, why, before and after) in the store and the log. A forcing is applied in
the process that answers and passed on through the store to every other (``shared`` in the
answer; :mod:`resilience.breaker_sharing`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any, cast

import orjson
import structlog
from aiohttp import web

from facade.problems import Problem
from facade.redaction import redact
from facade.routes.params import uncarriable
from facade.runtime import Runtime
from resilience import BreakerSnapshot, OutboxEntry
from resilience.audit import AuditLog
from resilience.breaker_forcing import ForceTarget
from resilience.outbox_entry import STATUSES, EntryNotFound, InvalidTransition

__all__ = [
    "Authorize",
    "add_ops_routes",
    "breaker_json",
    "checked_reason",
    "ops_json",
    "read_object",
    "snapshot_json",
]

#: ``authorize(request, write)`` returns the actor's name or raises a 401/403 Problem.
Authorize = Callable[[web.Request, bool], Awaitable[str]]
_FORCE_TARGETS = ("forced_open", "forced_closed", "disabled", "auto")
#: the longest forcing: a year of planned maintenance is already a decision, not an outage
MAX_FORCE_TTL_S = 366 * 24 * 3600.0
_MAX_REASON = 500
_MAX_LISTED = 500


def _reason_error(reason: object) -> str | None:
    """What is wrong with an operator's reason (it goes into the audit trail), or None."""
    if not isinstance(reason, str) or len(reason) > _MAX_REASON:
        return f"text of at most {_MAX_REASON} characters"
    return uncarriable(reason)  # a NUL cannot even be stored in PostgreSQL's text


def checked_reason(body: dict[str, Any]) -> str:
    """The body's ``reason`` (empty if absent), or a 400 naming it."""
    reason = body.get("reason", "")
    error = _reason_error(reason)
    if error is not None:
        raise _invalid([{"field": "body.reason", "message": error}])
    return cast(str, reason)


def _invalid(errors: list[dict[str, str]]) -> Problem:
    return Problem(
        400, "validation_failed", "Invalid request", "See errors.", extra={"errors": errors}
    )


log = structlog.get_logger("veneer.ops")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot_json(snapshot: BreakerSnapshot) -> dict[str, Any]:
    return {
        field.name: _plain(getattr(snapshot, field.name)) for field in dataclasses.fields(snapshot)
    }


def breaker_json(
    snapshot: BreakerSnapshot, by_worker: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """A breaker as operators see it; under ``serve --workers N`` with its state in each worker."""
    shown = snapshot_json(snapshot)
    if by_worker:
        shown["workers"] = dict(by_worker.get(snapshot.name, {}))
    return shown


def entry_json(entry: OutboxEntry) -> dict[str, Any]:
    wrapped = entry.params if isinstance(entry.params, dict) else {}
    return {
        "id": entry.id,
        "status": entry.status,
        "backend": entry.backend,
        "operation": entry.operation,
        "route": wrapped.get("route"),
        "resource": entry.resource,
        "attempts": entry.attempts,
        "max_attempts": entry.max_attempts,
        "last_error": (entry.last_error or "")[:300] or None,
        "request_id": entry.request_id,
        "created_at": _plain(entry.created_at),
        "updated_at": _plain(entry.updated_at),
        "next_attempt_at": _plain(entry.next_attempt_at),
    }


def ops_json(data: Any, status: int = 200) -> web.Response:
    # Backend error texts can quote what they were sent: scrub every configured secret.
    return web.Response(
        status=status,
        body=orjson.dumps(redact(data)),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def read_object(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "invalid_json", "Invalid JSON", str(exc)) from exc
    if not isinstance(body, dict):
        raise Problem(400, "validation_failed", "Invalid request", "Send a JSON object.")
    return body


class OpsApi:
    """One method per endpoint; every change is authorised as a write and audited."""

    def __init__(
        self,
        runtime: Runtime,
        audit: AuditLog | None,
        authorize: Authorize,
        states_by_worker: Callable[[], dict[str, dict[str, str]]] = dict,
    ) -> None:
        self.runtime = runtime
        self.audit = audit
        self.authorize = authorize
        #: breaker → worker slot → state, under ``serve --workers N`` (facade.worker_metrics)
        self.states_by_worker = states_by_worker

    def _breaker(self, name: str) -> Any:
        breaker = self.runtime.breakers.find(name)
        if breaker is None:
            raise Problem(404, "not_found", "Not found", f"No breaker named {name!r}.")
        return breaker

    def _outbox(self) -> Any:
        if self.runtime.outbox is None:
            raise Problem(404, "not_found", "Not found", "This gateway runs without a store.")
        return self.runtime.outbox

    async def list_breakers(self, request: web.Request) -> web.Response:
        """Every breaker as this process sees it; under workers, also each worker's state."""
        await self.authorize(request, False)
        by_worker = self.states_by_worker()
        listed = [breaker_json(b.snapshot(), by_worker) for b in self.runtime.breakers.all()]
        return ops_json({"breakers": listed})

    async def show_breaker(self, request: web.Request) -> web.Response:
        await self.authorize(request, False)
        name = request.match_info["name"]
        snapshot = snapshot_json(self._breaker(name).snapshot())
        history = []
        if self.audit is not None:
            history = [
                e.as_dict() for e in await self.audit.recent(target=f"breaker:{name}", limit=20)
            ]
        return ops_json({**snapshot, "audit": history})

    async def force_breaker(self, request: web.Request) -> web.Response:
        actor = await self.authorize(request, True)
        breaker = self._breaker(request.match_info["name"])
        body = await read_object(request)
        state, ttl, reason = body.get("state"), body.get("ttl_s"), body.get("reason", "")
        errors = []
        if state not in _FORCE_TARGETS:
            errors.append(
                {"field": "body.state", "message": f"one of: {', '.join(_FORCE_TARGETS)}"}
            )
        if ttl is not None and (
            not isinstance(ttl, int | float)
            or isinstance(ttl, bool)
            or not 0 < ttl <= MAX_FORCE_TTL_S
        ):
            errors.append(
                {
                    "field": "body.ttl_s",
                    "message": f"a positive number of seconds, at most {MAX_FORCE_TTL_S:.0f} (366 days)",
                }
            )
        wrong_reason = _reason_error(reason)
        if wrong_reason is not None:
            errors.append({"field": "body.reason", "message": wrong_reason})
        if errors:
            raise _invalid(errors)
        before = snapshot_json(breaker.snapshot())
        after = snapshot_json(breaker.force(state, ttl_s=ttl, reason=reason, actor=actor))
        target = cast(ForceTarget, state)  # one of _FORCE_TARGETS, checked above
        after["shared"] = await self._share(breaker.name, target, ttl, reason, actor)
        if self.audit is not None:
            await self.audit.record(
                actor=actor,
                action=f"breaker.{state}",
                target=f"breaker:{breaker.name}",
                reason=reason,
                before=before["state"],
                after=after["state"],
            )
        return ops_json(after)

    async def _share(
        self, name: str, state: ForceTarget, ttl: float | None, reason: str, actor: str
    ) -> bool:
        """Pass the forcing on to every other process; False if it could not be (no store, or
        the store failed: it holds here only, and the log says so)."""
        forcings = self.runtime.forcings
        if forcings is None:
            return False
        try:
            await forcings.publish(name, state, ttl_s=ttl, reason=reason, actor=actor)
        except Exception:
            log.exception("breaker forcing not shared: it holds in this process only", breaker=name)
            return False
        return True

    async def list_outbox(self, request: web.Request) -> web.Response:
        await self.authorize(request, False)
        outbox = self._outbox()
        status, limit = request.query.get("status"), request.query.get("limit", "100")
        errors = []
        if status is not None and status not in STATUSES:
            errors.append({"field": "query.status", "message": f"one of: {', '.join(STATUSES)}"})
        if not limit.isdigit() or not 1 <= int(limit) <= _MAX_LISTED:
            errors.append(
                {"field": "query.limit", "message": f"a whole number, 1 to {_MAX_LISTED}"}
            )
        if errors:
            raise _invalid(errors)
        entries = await outbox.list(status=status, limit=int(limit))
        return ops_json(
            {"counts": await outbox.counts(), "entries": [entry_json(e) for e in entries]}
        )

    def outbox_action(self, action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def act(request: web.Request) -> web.Response:
            actor = await self.authorize(request, True)
            entry_id = request.match_info["id"]
            reason = checked_reason(await read_object(request))
            try:
                before = await self._outbox().get(entry_id)
                entry = await getattr(self._outbox(), action)(entry_id)
            except EntryNotFound as exc:
                raise Problem(404, "not_found", "Not found", "No such outbox entry.") from exc
            except InvalidTransition as exc:
                raise Problem(409, "conflict", "Conflict", str(exc)) from exc
            if self.audit is not None:
                await self.audit.record(
                    actor=actor,
                    action=f"outbox.{action}",
                    target=f"outbox:{entry_id}",
                    reason=reason,
                    before=before.status if before else None,
                    after=entry.status,
                )
            return ops_json(entry_json(entry))

        return act

    async def list_audit(self, request: web.Request) -> web.Response:
        await self.authorize(request, False)
        entries = await self.audit.recent(limit=100) if self.audit else []
        return ops_json({"audit": [e.as_dict() for e in entries]})


def add_ops_routes(
    app: web.Application,
    runtime: Runtime,
    audit: AuditLog | None,
    authorize: Authorize,
    states_by_worker: Callable[[], dict[str, dict[str, str]]] = dict,
) -> None:
    api = OpsApi(runtime, audit, authorize, states_by_worker)
    app.router.add_get("/ops/breakers", api.list_breakers)
    app.router.add_get("/ops/breakers/{name}", api.show_breaker)
    app.router.add_post("/ops/breakers/{name}", api.force_breaker)
    app.router.add_get("/ops/outbox", api.list_outbox)
    app.router.add_post("/ops/outbox/{id}/replay", api.outbox_action("replay"))
    app.router.add_post("/ops/outbox/{id}/discard", api.outbox_action("discard"))
    app.router.add_get("/ops/audit", api.list_audit)
