"""Serve the OpenAPI document and the docs page, both from the package (works offline)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from aiohttp import web

__all__ = ["add_docs"]


def add_docs(app: web.Application, document: Callable[[], bytes]) -> None:
    """``document()`` is the OpenAPI document (JSON) of the configuration in service."""
    page = files("facade").joinpath("static/docs.html").read_bytes()

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(body=document(), content_type="application/json")

    async def docs(request: web.Request) -> web.Response:
        return web.Response(
            body=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; connect-src 'self'"
            },
        )

    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
