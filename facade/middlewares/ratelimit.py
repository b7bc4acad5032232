"""Draw one token per /api request from the caller's bucket for the route; 429 when empty.

Runs after authentication (the bucket is the caller's) and before the handler, so cached
answers count too: the limit protects the gateway as well as the backends. Every answer of a
limited route, success or problem, carries the RateLimit and RateLimit-Policy headers.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from facade.middlewares.keys import PRINCIPAL
from facade.security.access import RouteAccess
from facade.security.principal import ANONYMOUS
from facade.security.ratelimits import limit_key, rate_limit_headers, rate_limited
from resilience.ratelimit import RateLimiter

__all__ = ["Limits", "draw_token"]


class Limits(Protocol):
    """Where the pipeline finds the limiter: None when rate limiting is off (a reload swaps it)."""

    limiter: RateLimiter | None


async def draw_token(
    limits: Limits, request: web.Request, access: RouteAccess
) -> dict[str, str] | None:
    """The RateLimit headers for the answer, or None when the route is not limited.

    Raises the 429 ``rate_limited`` problem when the caller's bucket is empty.
    """
    limiter = limits.limiter
    if access.limit is None or limiter is None:
        return None
    key = limit_key(request.get(PRINCIPAL, ANONYMOUS), access, request.remote)
    decision = await limiter.acquire(key, access.limit)
    if not decision.allowed:
        raise rate_limited(decision, access.limit_name)
    return rate_limit_headers(decision, access.limit_name)
