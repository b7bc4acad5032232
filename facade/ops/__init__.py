"""The operators' surface: /ops API and dashboard, /metrics, /readyz."""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

from facade.metrics import Metrics
from facade.ops.api import Authorize, add_ops_routes
from facade.ops.health import readiness_handler
from facade.ops.reload import reload_handler
from facade.ops.stats import BackendStats
from facade.ops.stream import DashboardFeed
from facade.reload import Reloader
from facade.runtime import Runtime
from resilience.audit import AuditLog

__all__ = ["add_ops"]


def add_ops(
    app: web.Application,
    runtime: Runtime,
    metrics: Metrics,
    authorize: Authorize,
    *,
    audit: AuditLog | None = None,
    reloader: Reloader | None = None,
) -> None:
    stats = BackendStats(runtime.clock)
    runtime.observers.append(metrics.backend_call)
    runtime.observers.append(
        lambda backend, _op, outcome, seconds: stats.record(
            backend, seconds, failed=outcome not in {"success", "refused"}
        )
    )
    metrics.subscribe(runtime.events)
    if audit is None and runtime.store is not None:
        audit = AuditLog(runtime.store, clock=runtime.clock)

    def states_by_worker() -> dict[str, dict[str, str]]:
        return metrics.breaker_states_by_worker(runtime.breakers)

    feed = DashboardFeed(runtime, stats, states_by_worker)
    page = files("facade").joinpath("static/ops.html").read_bytes()

    async def dashboard(request: web.Request) -> web.Response:
        return web.Response(
            body=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; connect-src 'self'",
            },
        )

    async def metrics_handler(request: web.Request) -> web.Response:
        await authorize(request, False)
        return await metrics.render(runtime.breakers, runtime.outbox)

    app.router.add_get("/ops/", dashboard)
    app.router.add_get("/ops/events", feed.handler(authorize))
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/readyz", readiness_handler(runtime, reloader))
    add_ops_routes(app, runtime, audit, authorize, states_by_worker)
    if reloader is not None:
        app.router.add_post("/ops/reload", reload_handler(reloader, authorize))
