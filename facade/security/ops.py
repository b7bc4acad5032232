"""The operators' credential: separate from API callers', checked by every ops handler.

``ops.admin_token`` may do anything (force a breaker, replay a dead letter); ``ops.read_token``
may look; ``ops.public_read`` lets anyone look (a trusted network only). With no admin token
configured, nothing that changes state is allowed at all. API credentials (JWTs, API keys)
never open the ops endpoints, and ops tokens never open the API.

Handlers call ``await require_ops(request, write)``; it returns who acted (``admin``, ``reader``
or ``public``), for the audit log, or raises a 401/403 problem.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from facade.problems import Problem
from facade.settings import Ops

__all__ = ["OPS_GUARD", "OpsGuard", "require_ops"]

_REALM = 'Bearer realm="veneer-ops"'


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()  # equal lengths: compare_digest leaks nothing


class OpsGuard:
    def __init__(self, ops: Ops) -> None:
        self._admin = _digest(ops.admin_token.reveal()) if ops.admin_token else None
        self._reader = _digest(ops.read_token.reveal()) if ops.read_token else None
        self._public_read = ops.public_read

    def adopt(self, other: OpsGuard) -> None:
        """Take the credentials of a reloaded configuration (the guard itself stays installed)."""
        self._admin, self._reader, self._public_read = (
            other._admin,
            other._reader,
            other._public_read,
        )

    def check(self, request: web.Request, write: bool) -> str:
        offered = _bearer(request)
        digest = _digest(offered) if offered else None
        if digest is not None and self._admin and hmac.compare_digest(digest, self._admin):
            return "admin"
        is_reader = (
            digest is not None
            and self._reader is not None
            and hmac.compare_digest(digest, self._reader)
        )
        if write:
            if self._admin is None:
                raise Problem(
                    403,
                    "forbidden",
                    "Forbidden",
                    "No ops admin token is configured: changes through the ops API are disabled.",
                )
            if is_reader:
                raise Problem(
                    403, "forbidden", "Forbidden", "The read-only ops token cannot change anything."
                )
        elif is_reader:
            return "reader"
        elif self._public_read and offered is None:
            return "public"
        raise Problem(
            401,
            "unauthenticated",
            "Unauthenticated",
            "Send the ops token: Authorization: Bearer <token>."
            if offered is None
            else "The ops token was refused.",
            headers={"WWW-Authenticate": _REALM},
        )


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


OPS_GUARD = web.AppKey("ops_guard", OpsGuard)


async def require_ops(request: web.Request, write: bool) -> str:
    """Who may do this on the ops endpoints (``admin``/``reader``/``public``), or raise 401/403.

    Works from sub-applications too (the guard is looked up through ``config_dict``).
    """
    guard = request.config_dict.get(OPS_GUARD)
    if guard is None:  # not installed: deny rather than guess
        raise Problem(503, "ops_unavailable", "Ops unavailable", "The ops guard is not set up.")
    role = guard.check(request, write)
    # Imported here: the request keys module imports this package (a cycle at import time).
    from facade.middlewares.keys import PRINCIPAL_NAME

    request[PRINCIPAL_NAME] = f"ops:{role}"  # the access line's client
    return role
