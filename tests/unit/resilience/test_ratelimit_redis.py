"""The Redis token bucket: the Lua script agrees with the Python arithmetic, and Redis going away
falls back to this process's buckets instead of failing requests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import structlog

from resilience import FakeClock
from resilience.ratelimit import RateLimitPolicy, take
from resilience.ratelimit_redis import RedisRateLimiter

pytestmark = pytest.mark.redis

POLICY = RateLimitPolicy(rate=4.0, burst=2)


class Timeline:
    """An explicit time for the script (Redis's own TIME cannot be moved by a test)."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[tuple[RedisRateLimiter, Timeline]]:
    timeline = Timeline()
    limiter = RedisRateLimiter.from_url(
        redis_url,
        clock=FakeClock(),
        prefix=f"veneer-test:{secrets.token_hex(6)}:",
        timeout_s=1.0,
        now=timeline,
    )
    yield limiter, timeline
    await limiter.close()


async def test_the_script_matches_the_python_arithmetic(
    shared: tuple[RedisRateLimiter, Timeline],
) -> None:
    """Step by step over a window, Redis and `take` allow the same requests and leave the same tokens."""
    limiter, timeline = shared
    bucket = None
    for step in range(80):
        decision = await limiter.acquire("alice|GET /x", POLICY)
        bucket, expected = take(bucket, POLICY, timeline.now)
        assert (decision.allowed, decision.tokens) == (expected.allowed, expected.tokens), step
        timeline.now += 1 / 16 if step % 3 else 1 / 4


async def test_two_limiters_share_one_bucket(
    shared: tuple[RedisRateLimiter, Timeline], redis_url: str
) -> None:
    """Two limiters (two processes' worth) on one prefix together allow the burst once, not twice."""
    first, timeline = shared
    second = RedisRateLimiter.from_url(
        redis_url, clock=FakeClock(), prefix=first.prefix, timeout_s=1.0, now=timeline
    )
    try:
        outcomes = [
            (await limiter.acquire("bob|GET /x", POLICY)).allowed
            for limiter in (first, second, first, second, first, second)
        ]
    finally:
        await second.close()
    assert outcomes == [True, True, False, False, False, False]


async def test_redis_unreachable_falls_back_to_local_buckets_and_warns_once() -> None:
    """With Redis down requests are still limited, per process, and the warning is not repeated per request."""
    clock = FakeClock()
    limiter = RedisRateLimiter.from_url(
        "redis://127.0.0.1:9/0", clock=clock, timeout_s=0.2, retry_after_s=5.0
    )
    try:
        with structlog.testing.capture_logs() as logs:
            outcomes = [(await limiter.acquire("carol|GET /x", POLICY)).allowed for _ in range(4)]
    finally:
        await limiter.close()
    assert outcomes == [True, True, False, False]
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and "fall back" in warnings[0]["event"]
