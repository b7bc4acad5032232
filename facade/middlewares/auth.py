"""Authenticate every /api request and check its route's scopes, before anything else runs.

The route is known from aiohttp's match (before the handler), so a caller without the scopes
gets 403 before any cache lookup or backend call: the answer is the same whether the resource
exists or not. The principal (or ``ANONYMOUS`` on a public route) is stored on the request for
the rest of the pipeline: rate limits, cache keys, idempotency scopes, includes.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from aiohttp import web

from facade.logs import bind_request
from facade.middlewares.keys import ACCESS, PRINCIPAL, PRINCIPAL_NAME
from facade.security.access import AccessTable, RouteAccess
from facade.security.authenticator import Authenticator
from facade.security.errors import Unauthenticated, forbidden, unauthenticated
from facade.security.principal import ANONYMOUS

__all__ = ["Credentials", "authorize"]

log = structlog.get_logger("veneer.auth")


class Credentials(Protocol):
    """Where the pipeline finds who is trusted and what each route needs (a reload swaps both)."""

    authenticator: Authenticator
    table: AccessTable


async def authorize(security: Credentials, request: web.Request) -> RouteAccess | None:
    """The matched /api route's access rule once the caller may use it; None outside /api.

    Raises the 401 or 403 problem otherwise. The principal is stored on the request.
    """
    access = security.table.lookup(request)
    if access is None:  # not an /api route: health, docs, ops (which has its own guard)
        return None
    try:
        principal = await security.authenticator.authenticate(request)
    except Unauthenticated as error:
        log.info("credential refused", route=access.key, reason=error.reason)
        raise unauthenticated(error) from None
    if principal is None:
        if not access.public:
            raise unauthenticated(None)
        principal = ANONYMOUS
    request[PRINCIPAL] = principal
    request[PRINCIPAL_NAME] = principal.id
    request[ACCESS] = access
    bind_request(caller=principal.id)
    if not access.public and not principal.allows(access.scopes):
        missing = principal.missing(access.scopes)
        log.info("scope missing", route=access.key, missing=missing)
        raise forbidden(missing)
    return access
