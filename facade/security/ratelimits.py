"""Rate limits as HTTP sees them: whose bucket a request draws on, and the headers it gets.

A bucket is per caller and per route: an authenticated caller by its principal id, a caller of a
public route by its address (behind a proxy that is the proxy's: put the limit there too). The
headers follow draft-ietf-httpapi-ratelimit-headers (-10/-11), structured fields:

    RateLimit-Policy: "default";q=40;w=2     the bucket holds q requests; an empty one refills in w s
    RateLimit: "default";r=39;t=1            r requests left now; t seconds until the bucket is full

and a refused request is a 429 ``rate_limited`` problem with ``Retry-After`` (seconds until one
request is allowed again). The policy name is ``default`` (the top-level ``rate_limit``) or
``route`` (the route's own ``rate_limit``).
"""

from __future__ import annotations

import functools
import math

from facade.problems import Problem
from facade.security.access import RouteAccess
from facade.security.principal import Principal
from facade.settings import RateLimits
from resilience import Clock
from resilience.ratelimit import LocalRateLimiter, RateLimitDecision, RateLimiter, RateLimitPolicy

__all__ = [
    "build_limiter",
    "limit_key",
    "policy_header",
    "rate_limit_headers",
    "rate_limit_value",
    "rate_limit_values",
    "rate_limited",
]


def limit_key(principal: Principal, access: RouteAccess, remote: str | None) -> str:
    """Whose bucket: the principal's, or the client address's (``request.remote``) when anonymous."""
    who = principal.id if principal.authenticated else f"ip:{remote or 'unknown'}"
    return f"{who}|{access.key}"


@functools.lru_cache(maxsize=256)
def policy_header(name: str, policy: RateLimitPolicy) -> str:
    """The RateLimit-Policy header's value for the policy ``name``."""
    return f'"{name}";q={policy.burst};w={policy.window_s}'


def rate_limit_headers(decision: RateLimitDecision, name: str) -> dict[str, str]:
    policy, remaining = rate_limit_values(decision, name)
    return {"RateLimit-Policy": policy, "RateLimit": remaining}


def rate_limit_values(decision: RateLimitDecision, name: str) -> tuple[str, str]:
    """The values of the RateLimit-Policy and RateLimit headers."""
    return policy_header(name, decision.policy), rate_limit_value(decision, name)


def rate_limit_value(decision: RateLimitDecision, name: str) -> str:
    """The RateLimit header's value: what is left of the bucket, and when it is full again."""
    return f'"{name}";r={decision.remaining};t={math.ceil(decision.reset_s)}'


def rate_limited(decision: RateLimitDecision, name: str) -> Problem:
    return Problem(
        429,
        "rate_limited",
        "Too many requests",
        "This caller sent more requests to this route than its rate limit allows; "
        "wait for Retry-After.",
        retry_after=max(1, math.ceil(decision.retry_after_s)),
        headers=rate_limit_headers(decision, name),
    )


def build_limiter(settings: RateLimits, clock: Clock) -> RateLimiter | None:
    """In-process buckets, or Redis-shared ones when ``redis_url`` is set; None when disabled."""
    if not settings.enabled:
        return None
    if settings.redis_url is None:
        return LocalRateLimiter(clock)
    from resilience.ratelimit_redis import RedisRateLimiter

    return RedisRateLimiter.from_url(
        settings.redis_url,
        clock=clock,
        prefix=settings.redis_prefix,
        timeout_s=settings.redis_timeout,
    )
