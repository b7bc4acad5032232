"""The composition root: build the aiohttp application from an opened runtime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from aiohttp import web

from facade.calllane import CallLane
from facade.connection import CALL_LANE, HIT_LANE
from facade.hitlane import HitLane
from facade.metrics import Metrics
from facade.middlewares.access_log import AccessRecorder, record_backend_call
from facade.middlewares.cors import CorsPolicy
from facade.middlewares.pipeline import pipeline
from facade.openapi.serve import add_docs
from facade.ops import add_ops
from facade.reload import Reloader
from facade.routes import cursor_secret
from facade.routes.caching import RouteCache
from facade.routes.idempotency import Idempotency
from facade.routes.outbox import add_operations_route, deliverer
from facade.runtime import CLASSIFICATION, Runtime
from facade.security import require_ops
from facade.security.install import install_security
from facade.serving import Served, Serving, Shared
from facade.worker_metrics import WorkerMetrics
from resilience import OutboxWorker
from resilience.audit import AuditLog

__all__ = [
    "METRICS",
    "OUTBOX_WORKER",
    "RELOADER",
    "RUNTIME",
    "SERVING",
    "STARTED_AT",
    "create_app",
]

RUNTIME = web.AppKey("runtime", Runtime)
OUTBOX_WORKER = web.AppKey("outbox_worker", OutboxWorker)
STARTED_AT = web.AppKey("started_at", float)
SERVING = web.AppKey("serving", Serving)
RELOADER = web.AppKey("reloader", Reloader)
METRICS = web.AppKey("metrics", Metrics)
#: how often a worker of ``serve --workers N`` writes its numbers for the others' scrapes
METRICS_PERIOD_S = 1.0


async def _healthz(request: web.Request) -> web.Response:
    """The process is alive and its event loop answers."""
    uptime = time.monotonic() - request.app[STARTED_AT]
    return web.json_response({"status": "ok", "uptime_s": round(uptime, 3)})


async def _outbox_worker(app: web.Application) -> AsyncIterator[None]:
    """Deliver queued writes for as long as the app runs (cleanup_ctx: stopped only if started)."""
    runtime = app[RUNTIME]
    assert runtime.outbox is not None
    worker = OutboxWorker(
        runtime.outbox,
        deliverer(runtime),
        clock=runtime.clock,
        events=runtime.events,
        is_transient=CLASSIFICATION.is_transient,
        can_deliver=runtime.accepts_calls,
        retry_after_of=CLASSIFICATION.retry_after_of,
        poll_s=0.5,
    )
    task = asyncio.create_task(worker.run())
    app[OUTBOX_WORKER] = worker
    yield
    await worker.stop()
    await asyncio.gather(task, return_exceptions=True)


async def _shared_forcings(app: web.Application) -> AsyncIterator[None]:
    """Apply the breaker forcings other processes wrote, for as long as the app runs."""
    forcings = app[RUNTIME].forcings
    assert forcings is not None
    task = asyncio.create_task(forcings.run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _worker_metrics(app: web.Application) -> AsyncIterator[None]:
    """Write this worker's numbers once a second for the others' scrapes, and once more as it
    stops, so what it counted stays in the gateway's totals (facade.worker_metrics)."""
    metrics, runtime = app[METRICS], app[RUNTIME]

    async def every_period() -> None:
        while True:
            metrics.publish(runtime.breakers)
            await asyncio.sleep(METRICS_PERIOD_S)  # wall time, not the injected clock: the
            # period is not behaviour a test drives, and a fake clock's sleep returns at once

    task = asyncio.create_task(every_period())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    metrics.publish(runtime.breakers)


def create_app(runtime: Runtime, *, outbox_worker: bool = True) -> web.Application:
    """The gateway's application over an opened runtime (closed when the app shuts down).

    ``outbox_worker=False`` leaves queued writes undelivered (tests that drive time by hand:
    the worker's polling would move a fake clock on its own).
    """
    settings = runtime.settings
    metrics = Metrics(WorkerMetrics.from_environment())
    app = web.Application(client_max_size=settings.api.body_limit)
    app[RUNTIME] = runtime
    app[METRICS] = metrics
    app[STARTED_AT] = time.monotonic()
    runtime.observers.append(record_backend_call)
    security = install_security(app, settings, runtime.clock)
    recorder = AccessRecorder(metrics)
    # One middleware, every stage in order (facade.middlewares.pipeline).
    app.middlewares.append(
        pipeline(security=security, cors=CorsPolicy(settings.cors), recorder=recorder)
    )
    route_cache = (
        RouteCache(runtime.cache, runtime.clock, on_lookup=metrics.cache_lookup)
        if runtime.cache is not None
        else None
    )
    shared = Shared(
        cursor_secret=cursor_secret(settings),
        idempotency=(
            Idempotency(runtime.idempotency, ttl_s=settings.api.idempotency_ttl)
            if runtime.idempotency is not None
            else None
        ),
        cache=route_cache,
        outbox=runtime.outbox,
    )
    serving = Serving(Served(runtime, runtime.generation, shared, security.table))
    audit = AuditLog(runtime.store, clock=runtime.clock) if runtime.store is not None else None
    reloader = Reloader(runtime, serving, security, shared, metrics, audit=audit)
    app[SERVING] = serving
    app[RELOADER] = reloader
    # Fresh cache hits answered on the connection (facade.hitlane) and uncached reads served
    # from it (facade.calllane), under GatewayRunner.
    if route_cache is not None and settings.listen.hit_lane:
        app[HIT_LANE] = HitLane(serving, security, recorder)
    if settings.listen.call_lane:
        app[CALL_LANE] = CallLane(serving, security, recorder)

    app.router.add_get("/healthz", _healthz)
    add_ops(app, runtime, metrics, require_ops, audit=audit, reloader=reloader)
    add_docs(app, lambda: serving.current.openapi)
    if runtime.forcings is not None:
        app.cleanup_ctx.append(_shared_forcings)
    if metrics.workers is not None:
        app.cleanup_ctx.append(_worker_metrics)
    if runtime.outbox is not None:
        add_operations_route(app, runtime.outbox, lambda: serving.current.context)
        if outbox_worker:
            app.cleanup_ctx.append(_outbox_worker)
    serving.install(app)  # last: every path no fixed route claims

    async def stop_background_work(app: web.Application) -> None:
        if route_cache is not None:
            await route_cache.close()
        await reloader.close()

    async def close_runtime(app: web.Application) -> None:
        await app[RUNTIME].close()

    app.on_shutdown.append(stop_background_work)
    app.on_cleanup.append(close_runtime)
    return app
