"""Configured routes: compiled from settings, served by one handler class."""

from __future__ import annotations

import hashlib

from aiohttp import web

from facade.routes.caller import BackendCaller, DirectCaller
from facade.routes.compile import CompiledRoute, compile_routes
from facade.routes.handler import HandlerContext, RouteHandler
from facade.settings import Settings

__all__ = [
    "BackendCaller",
    "CompiledRoute",
    "DirectCaller",
    "HandlerContext",
    "RouteHandler",
    "add_routes",
    "compile_routes",
    "cursor_secret",
]


def cursor_secret(settings: Settings) -> bytes:
    """A key for signing cursors that every replica running the same configuration shares."""
    material = (
        settings.source.read_bytes() if settings.source and settings.source.exists() else b"veneer"
    )
    return hashlib.sha256(b"veneer-cursor\0" + material).digest()


def add_routes(
    app: web.Application,
    routes: dict[str, CompiledRoute],
    caller: BackendCaller,
    context: HandlerContext,
) -> dict[str, RouteHandler]:
    for key, compiled in routes.items():
        context.handlers[key] = RouteHandler(compiled, caller, context)
    for handler in context.handlers.values():
        app.router.add_route(handler.compiled.method, handler.compiled.path, handler.handle)
    return context.handlers
