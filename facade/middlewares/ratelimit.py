"""Draw one token per /api request from the caller's bucket for the route; 429 when empty.

Runs after authentication (the bucket is the caller's) and before the handler, so cached
answers count too: the limit protects the gateway as well as the backends. Every answer of a
limited route, success or problem, carries the RateLimit and RateLimit-Policy headers.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from facade.middlewares.keys import ACCESS, PRINCIPAL
from facade.problems import Problem
from facade.security.principal import ANONYMOUS
from facade.security.ratelimits import limit_key, rate_limit_headers, rate_limited
from resilience.ratelimit import RateLimiter

__all__ = ["rate_limit_middleware"]


class Limits(Protocol):
    """Where the middleware finds the limiter: None when rate limiting is off (a reload swaps it)."""

    limiter: RateLimiter | None


def rate_limit_middleware(limits: Limits) -> Middleware:
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        access = request.get(ACCESS)
        limiter = limits.limiter
        if access is None or access.limit is None or limiter is None:
            return await handler(request)
        key = limit_key(request.get(PRINCIPAL, ANONYMOUS), access, request)
        decision = await limiter.acquire(key, access.limit)
        if not decision.allowed:
            raise rate_limited(decision, access.limit_name)
        headers = rate_limit_headers(decision, access.limit_name)
        try:
            response = await handler(request)
        except Problem as problem:
            problem.headers.update(headers)
            raise
        except web.HTTPException as exc:
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return web.middleware(middleware)
