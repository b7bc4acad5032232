"""Readiness: the configuration is loaded and the store answers.

A backend whose breaker is open does not make the gateway unready: veneer is built to serve
such a backend degraded (from cache, through the outbox), so taking it out of a load balancer
would turn a partial outage into a total one. Those backends are listed instead, with the
configuration generation in service and the settings a reload changed that wait for a restart,
and the id of the process that answered (under ``serve --workers N``, which worker it was).
"""

from __future__ import annotations

import os

import orjson
from aiohttp import web

from facade.reload import Reloader
from facade.runtime import Runtime

__all__ = ["readiness_handler"]


def readiness_handler(runtime: Runtime, reloader: Reloader | None = None) -> web.Handler:  # type: ignore[name-defined]
    async def readyz(request: web.Request) -> web.Response:
        store = "none"
        ready = True
        if runtime.store is not None:
            try:
                await runtime.store.ping()
                store = "ok"
            except Exception as exc:  # any failure to reach it means not ready
                store = f"unreachable: {type(exc).__name__}"
                ready = False
        degraded = sorted(
            b.name
            for b in runtime.breakers.all()
            if str(b.state) in {"open", "half_open", "forced_open"}
        )
        body = {
            "status": "ready" if ready else "not_ready",
            "config": str(runtime.settings.source) if runtime.settings.source else None,
            "store": store,
            "backends": sorted(runtime.settings.backends),
            "degraded_backends": degraded,
            "generation": runtime.generation.number,
            "config_digest": runtime.settings.source_digest,
            "restart_required": reloader.restart_required if reloader else [],
            "pid": os.getpid(),
        }
        return web.Response(
            status=200 if ready else 503,
            body=orjson.dumps(body),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    return readyz
