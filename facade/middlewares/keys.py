"""Typed keys for what middlewares store on the request."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from facade.security.access import RouteAccess
from facade.security.principal import Principal

__all__ = ["ACCESS", "PINNED", "PRINCIPAL", "PRINCIPAL_NAME", "REQUEST_ID", "Pinned"]

REQUEST_ID = web.RequestKey("request_id", str)
#: who is calling (``ANONYMOUS`` on a public route called without a credential)
PRINCIPAL = web.RequestKey("principal", Principal)
#: who is calling, as logs and metrics name them ("anonymous" until authenticated)
PRINCIPAL_NAME = web.RequestKey("principal_name", str)
#: what the matched /api route demands (absent outside /api)
ACCESS = web.RequestKey("access", RouteAccess)


class Pinned(Protocol):
    """A configuration generation a request is pinned to until it ends (``facade.serving``)."""

    def leave(self) -> None:
        """The request is done with it."""
        ...


#: the generation route resolution pinned the request to (absent for fixed routes)
PINNED = web.RequestKey("pinned_generation", Pinned)
