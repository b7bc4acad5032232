"""Opaque, stable cursors over backends that page by offset (Odoo) or by bookmark (NAV).

A cursor is URL-safe base64 of a small JSON object, bound to its route and an HMAC so a client
cannot forge offsets or swap cursors between routes. Clients treat it as opaque; the gateway can
change what is inside without breaking them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from facade.settings import Pagination

__all__ = ["CursorError", "Page", "decode_cursor", "encode_cursor", "next_page_url"]


class CursorError(ValueError):
    """A cursor that was not made by this gateway for this route."""


@dataclass(frozen=True, slots=True)
class Page:
    """What the request template sees as ``page.*``."""

    limit: int
    offset: int = 0
    after: Any = None

    @property
    def fetch(self) -> int:
        """One more than asked, to learn whether another page exists without a count query."""
        return self.limit + 1

    def scope(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "fetch": self.fetch,
            "offset": self.offset,
            "after": self.after,
        }


def _sign(secret: bytes, route: str, payload: bytes) -> bytes:
    return hmac.new(secret, route.encode() + b"\0" + payload, hashlib.sha256).digest()[:12]


def encode_cursor(secret: bytes, route: str, state: dict[str, Any]) -> str:
    payload = orjson.dumps(state)
    token = _sign(secret, route, payload) + payload
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(secret: bytes, route: str, cursor: str) -> dict[str, Any]:
    try:
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as exc:
        raise CursorError("malformed cursor") from exc
    signature, payload = token[:12], token[12:]
    if not hmac.compare_digest(signature, _sign(secret, route, payload)):
        raise CursorError("this cursor was not issued for this listing")
    state = orjson.loads(payload)
    if not isinstance(state, dict):
        raise CursorError("malformed cursor")
    return state


def start_page(spec: Pagination, limit: int | None, state: dict[str, Any] | None) -> Page:
    size = spec.default_limit if limit is None else limit
    if not 1 <= size <= spec.max_limit:
        raise ValueError(f"limit must be between 1 and {spec.max_limit}")
    state = state or {}
    offset = state.get("o", 0)
    if not isinstance(offset, int) or offset < 0:
        raise CursorError("malformed cursor")
    return Page(limit=size, offset=offset, after=state.get("a"))


def next_state(spec: Pagination, page: Page, last_bookmark: Any) -> dict[str, Any]:
    if spec.style == "offset":
        return {"o": page.offset + page.limit}
    return {"a": last_bookmark}


def next_page_url(
    request: web.Request, secret: bytes, route: str, state: dict[str, Any] | None
) -> str | None:
    """The request's URL with the cursor to the next page, or None on the last page."""
    if state is None:
        return None
    query = {k: v for k, v in request.query.items() if k != "cursor"}
    query["cursor"] = encode_cursor(secret, route, state)
    return f"{request.path}?{urlencode(query)}"
