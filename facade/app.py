"""The composition root: build the aiohttp application from validated settings."""

from __future__ import annotations

import time

from aiohttp import web

from facade.settings import Settings

__all__ = ["SETTINGS", "STARTED_AT", "create_app"]

SETTINGS = web.AppKey("settings", Settings)
STARTED_AT = web.AppKey("started_at", float)


async def _healthz(request: web.Request) -> web.Response:
    """The process is alive and its event loop answers."""
    uptime = time.monotonic() - request.app[STARTED_AT]
    return web.json_response({"status": "ok", "uptime_s": round(uptime, 3)})


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[STARTED_AT] = time.monotonic()
    app.router.add_get("/healthz", _healthz)
    return app
