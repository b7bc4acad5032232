"""Typed keys for what middlewares store on the request."""

from __future__ import annotations

from aiohttp import web

__all__ = ["PRINCIPAL_NAME", "REQUEST_ID"]

REQUEST_ID = web.RequestKey("request_id", str)
#: who is calling, as logs and metrics name them ("anonymous" until authenticated)
PRINCIPAL_NAME = web.RequestKey("principal_name", str)
