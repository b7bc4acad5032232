"""The composition root: build the aiohttp application from validated settings."""

from __future__ import annotations

import time

from aiohttp import web

from facade.backends import Backends
from facade.middlewares import (
    compression_middleware,
    cors_middleware,
    problem_middleware,
    request_id_middleware,
)
from facade.openapi import build_openapi
from facade.openapi.serve import add_docs
from facade.routes import DirectCaller, add_routes, cursor_secret
from facade.settings import Settings

__all__ = ["BACKENDS", "SETTINGS", "STARTED_AT", "create_app"]

SETTINGS = web.AppKey("settings", Settings)
BACKENDS = web.AppKey("backends", Backends)
STARTED_AT = web.AppKey("started_at", float)


async def _healthz(request: web.Request) -> web.Response:
    """The process is alive and its event loop answers."""
    uptime = time.monotonic() - request.app[STARTED_AT]
    return web.json_response({"status": "ok", "uptime_s": round(uptime, 3)})


def create_app(settings: Settings, backends: Backends) -> web.Application:
    """The gateway's application over already-started backends (closed when the app shuts down)."""
    # Outermost first: the request id exists before anything can fail; CORS headers go on
    # problems too; bodies are compressed last, once they are final.
    middlewares = [
        request_id_middleware,
        cors_middleware(settings.cors),
        compression_middleware,
        problem_middleware,
    ]
    app = web.Application(middlewares=middlewares, client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[BACKENDS] = backends

    async def close_backends(app: web.Application) -> None:
        await app[BACKENDS].close()

    app.on_cleanup.append(close_backends)
    app[STARTED_AT] = time.monotonic()
    app.router.add_get("/healthz", _healthz)
    add_docs(app, build_openapi(settings))
    add_routes(app, backends.routes, DirectCaller(backends.adapters), cursor_secret(settings))
    return app
