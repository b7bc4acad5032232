"""Typed keys for what middlewares store on the request."""

from __future__ import annotations

from aiohttp import web

__all__ = ["REQUEST_ID"]

REQUEST_ID = web.RequestKey("request_id", str)
