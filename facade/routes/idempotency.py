"""Idempotency-Key on writes: a retried request is applied once and answered the same way.

The first request with a key owns it; its final answer (any status below 500) is stored and
replayed, byte for byte, to every retry that carries the same key and the same request. A retry
with the same key and a different request is refused (422); one that arrives while the first is
still running is told to wait (409, Retry-After). A 5xx is not final: the key is freed so the
client's retry runs again. Keys are scoped to the caller and the route, so two clients cannot
collide, and they expire after ``api.idempotency_ttl``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from facade.middlewares.keys import REQUEST_ID
from facade.problems import Problem
from resilience.idempotency import Begun, IdempotencyStore, InProgress, Mismatch, Replay

__all__ = ["IDEMPOTENCY_HEADER", "Idempotency"]

log = structlog.get_logger("veneer.idempotency")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the draft standard suggests
_REPLAYED_HEADERS = ("Content-Type", "ETag", "Location", "Cache-Control", "Deprecation", "Sunset")


def request_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, validated; None when absent."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise Problem(
            400,
            "validation_failed",
            "Invalid request",
            "Idempotency-Key is malformed.",
            extra={
                "errors": [
                    {
                        "field": f"header.{IDEMPOTENCY_HEADER}",
                        "message": "1 to 255 visible ASCII characters",
                    }
                ]
            },
        )
    return key


class Idempotency:
    def __init__(self, records: IdempotencyStore, *, ttl_s: float) -> None:
        self.records = records
        self.ttl_s = ttl_s

    async def run(
        self,
        request: web.Request,
        key: str,
        *,
        scope: str,
        body: bytes,
        lease_s: float,
        handler: Callable[[], Awaitable[web.Response]],
    ) -> web.Response:
        fingerprint = hashlib.sha256(
            b"\0".join((request.method.encode(), request.path_qs.encode(), body))
        ).hexdigest()
        outcome = await self.records.begin(
            scope, key, fingerprint, ttl_s=self.ttl_s, lease_s=lease_s
        )
        if isinstance(outcome, Replay):
            headers = dict(outcome.headers)
            headers["Idempotent-Replayed"] = "true"
            return web.Response(status=outcome.status, body=outcome.body, headers=headers)
        if isinstance(outcome, Mismatch):
            raise Problem(
                422,
                "idempotency_key_reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was used for a different request; use a new key.",
            )
        if isinstance(outcome, InProgress):
            raise Problem(
                409,
                "idempotency_key_in_use",
                "Request in progress",
                "The first request with this Idempotency-Key is still running; retry shortly.",
                retry_after=1,
            )
        assert isinstance(outcome, Begun)
        try:
            response = await handler()
        except Problem as problem:
            response = problem.to_response(request.get(REQUEST_ID))
            await self._finish(scope, key, response)
            raise
        except BaseException:
            await self.records.abandon(scope, key)
            raise
        await self._finish(scope, key, response)
        return response

    async def _finish(self, scope: str, key: str, response: web.Response) -> None:
        if response.status >= 500:
            await self.records.abandon(scope, key)
            return
        body = response.body if isinstance(response.body, bytes) else b""
        headers = [
            (name, response.headers[name]) for name in _REPLAYED_HEADERS if name in response.headers
        ]
        await self.records.complete(scope, key, status=response.status, headers=headers, body=body)
