"""Typed keys for what middlewares store on the request."""

from __future__ import annotations

from aiohttp import web

from facade.security.access import RouteAccess
from facade.security.principal import Principal

__all__ = ["ACCESS", "PRINCIPAL", "PRINCIPAL_NAME", "REQUEST_ID"]

REQUEST_ID = web.RequestKey("request_id", str)
#: who is calling (``ANONYMOUS`` on a public route called without a credential)
PRINCIPAL = web.RequestKey("principal", Principal)
#: who is calling, as logs and metrics name them ("anonymous" until authenticated)
PRINCIPAL_NAME = web.RequestKey("principal_name", str)
#: what the matched /api route demands (absent outside /api)
ACCESS = web.RequestKey("access", RouteAccess)
