"""Token buckets: the arithmetic, exact over whole windows on a fake clock, and bounded memory."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resilience import FakeClock
from resilience.ratelimit import Bucket, LocalRateLimiter, RateLimitPolicy, take

POLICY = RateLimitPolicy(rate=4.0, burst=2)  # binary-exact steps: a quarter second is one token


def test_a_new_bucket_is_full_and_each_request_takes_one_token() -> None:
    """A first request finds the bucket full; it leaves burst - 1 tokens."""
    bucket, decision = take(None, POLICY, now=10.0)
    assert decision.allowed and decision.remaining == 1
    assert bucket == Bucket(tokens=1.0, stamp=10.0)


def test_an_empty_bucket_refuses_and_says_when_to_retry() -> None:
    """With no token left a request is refused; retry_after is the time to the next whole token."""
    bucket, _ = take(None, POLICY, 0.0)
    bucket, _ = take(bucket, POLICY, 0.0)
    bucket, refused = take(bucket, POLICY, 0.1)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(0.15)
    assert refused.reset_s == pytest.approx((2 - 0.4) / 4)


def test_refill_never_exceeds_the_burst() -> None:
    """However long a client was quiet, it may send at most burst requests at once."""
    bucket, _ = take(None, POLICY, 0.0)
    bucket, decision = take(bucket, POLICY, 3600.0)
    assert decision.remaining == 1 and bucket.tokens == 1.0


def test_a_clock_that_goes_backwards_adds_nothing() -> None:
    """Another process's earlier timestamp neither refills nor drains the bucket."""
    bucket, _ = take(None, POLICY, 100.0)
    later, decision = take(bucket, POLICY, 99.0)
    assert decision.allowed and later.tokens == 0.0 and later.stamp == 100.0


async def test_allowed_requests_over_a_window_are_exactly_burst_plus_rate_times_window() -> None:
    """Polling every 1/16 s over [0 s, 10 s] allows exactly burst + rate * 10 requests."""
    clock = FakeClock()
    limiter = LocalRateLimiter(clock)
    allowed = 0
    for tick in range(161):  # t = 0, 1/16, ..., 10 s
        allowed += (await limiter.acquire("client|route", POLICY)).allowed
        if tick < 160:
            clock.advance(1 / 16)
    assert allowed == POLICY.burst + 4 * 10


async def test_each_window_of_a_steady_flood_allows_exactly_the_rate() -> None:
    """Once the burst is spent, each further second of a flood lets exactly `rate` requests through."""
    clock = FakeClock()
    limiter = LocalRateLimiter(clock)
    for _ in range(10):
        await limiter.acquire("k", POLICY)
    for _second in range(5):
        allowed = 0
        for _ in range(64):
            clock.advance(1 / 64)
            allowed += (await limiter.acquire("k", POLICY)).allowed
        assert allowed == 4


async def test_buckets_are_per_key() -> None:
    """One caller's empty bucket does not limit another caller or another route."""
    limiter = LocalRateLimiter(FakeClock())
    for _ in range(POLICY.burst):
        await limiter.acquire("alice|GET /x", POLICY)
    assert not (await limiter.acquire("alice|GET /x", POLICY)).allowed
    assert (await limiter.acquire("bob|GET /x", POLICY)).allowed
    assert (await limiter.acquire("alice|GET /y", POLICY)).allowed


async def test_memory_stays_bounded_under_many_keys() -> None:
    """Past max_keys, refilled buckets are dropped first and the table never grows without bound."""
    clock = FakeClock()
    limiter = LocalRateLimiter(clock, max_keys=100)
    for n in range(1000):
        await limiter.acquire(f"ip:{n}", POLICY)
        clock.advance(1.0)  # each earlier bucket has refilled by now
    assert len(limiter) <= 100


def test_the_window_advertised_is_the_time_to_refill_an_empty_bucket() -> None:
    """RateLimit-Policy's w is ceil(burst / rate), at least one second."""
    assert RateLimitPolicy(rate=50, burst=100).window_s == 2
    assert RateLimitPolicy(rate=100, burst=10).window_s == 1
    assert RateLimitPolicy(rate=0.5, burst=3).window_s == 6


@given(
    tokens=st.floats(0, 200, allow_nan=False),
    stamp=st.floats(0, 1e6, allow_nan=False),
    step=st.floats(-100, 100, allow_nan=False),
    rate=st.floats(0.01, 1000, allow_nan=False),
    burst=st.integers(1, 100),
)
def test_take_refills_by_elapsed_time_within_the_burst(
    tokens: float, stamp: float, step: float, rate: float, burst: int
) -> None:
    """A bucket gains rate times elapsed time, never more than the burst (also one kept from a
    larger burst), nothing when the clock steps back, and keeps the later stamp; one token is
    taken when there is one, and the decision's remaining and reset agree with the bucket."""
    policy = RateLimitPolicy(rate=rate, burst=burst)
    now = stamp + step
    available = min(float(burst), tokens + max(0.0, now - stamp) * rate)
    bucket, decision = take(Bucket(tokens, stamp), policy, now)
    assert decision.allowed is (available >= 1.0)
    assert bucket.tokens == pytest.approx(available - 1.0 if decision.allowed else available)
    assert bucket.stamp == max(now, stamp)
    assert decision.remaining == max(0, math.floor(bucket.tokens))
    assert decision.reset_s == pytest.approx(max(0.0, (burst - bucket.tokens) / rate))
