"""Token-bucket rate limits: the policy, the pure arithmetic, and an in-process limiter.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a request takes
one token or is refused. So a quiet client may send ``burst`` requests at once, and a busy one
``rate`` per second on average. The arithmetic (:func:`take`) is a pure function of the bucket,
the policy and the time, so the in-process limiter here and the Redis one
(:mod:`resilience.ratelimit_redis`, the same formula in Lua) cannot disagree, and tests drive it
with a fake clock over exact windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from resilience.clock import Clock

__all__ = [
    "Bucket",
    "LocalRateLimiter",
    "RateLimitDecision",
    "RateLimitPolicy",
    "RateLimiter",
    "take",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class RateLimitPolicy:
    """A token bucket: ``burst`` requests at once, then ``rate`` per second."""

    rate: float = field(
        metadata={"gt": 0, "help": "tokens added per second (sustained requests/s)"}
    )
    burst: int = field(
        metadata={"ge": 1, "le": 1_000_000, "help": "bucket size: requests allowed at once"}
    )

    @property
    def window_s(self) -> int:
        """Seconds an empty bucket takes to fill again: the window the headers advertise."""
        return max(1, math.ceil(self.burst / self.rate))


class Bucket(NamedTuple):
    """Tokens left at ``stamp`` (a monotonic time)."""

    tokens: float
    stamp: float


class RateLimitDecision(NamedTuple):
    """What one request got, and what a client needs to pace itself.

    Bucket and decision are named tuples rather than frozen dataclasses: every request makes
    one of each, and a tuple is built several times faster.
    """

    allowed: bool
    policy: RateLimitPolicy
    tokens: float

    @property
    def remaining(self) -> int:
        """Whole requests the client may still send at once."""
        whole = math.floor(self.tokens)
        return whole if whole > 0 else 0  # not max(): a builtin call costs more, every request

    @property
    def retry_after_s(self) -> float:
        """Seconds until one token is back (0 when the request was allowed)."""
        return 0.0 if self.allowed else max(0.0, (1.0 - self.tokens) / self.policy.rate)

    @property
    def reset_s(self) -> float:
        """Seconds until the bucket is full again."""
        policy = self.policy
        missing = policy.burst - self.tokens
        return missing / policy.rate if missing > 0.0 else 0.0


def take(
    bucket: Bucket | None, policy: RateLimitPolicy, now: float
) -> tuple[Bucket, RateLimitDecision]:
    """Refill ``bucket`` up to ``now`` and take one token if there is one.

    A missing bucket is a full one. Time that goes backwards (another process's clock) adds
    nothing rather than removing tokens.
    """
    burst = float(policy.burst)
    if bucket is None:
        tokens, stamp = burst, now
    else:  # comparisons rather than min()/max(), builtin calls: this runs every request
        tokens, stamp = bucket.tokens, bucket.stamp
        if now > stamp:
            tokens += (now - stamp) * policy.rate
            stamp = now
        if tokens > burst:  # noqa: PLR1730 - (also a bucket kept from a larger burst)
            tokens = burst
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    return Bucket(tokens, stamp), RateLimitDecision(allowed, policy, tokens)


class RateLimiter(Protocol):
    async def acquire(self, key: str, policy: RateLimitPolicy) -> RateLimitDecision:
        """Take one token from ``key``'s bucket under ``policy``."""
        ...

    async def close(self) -> None: ...


class LocalRateLimiter:
    """Buckets in this process's memory, on an injected clock.

    Memory is bounded: past ``max_keys`` buckets, those that have refilled completely (a full
    bucket is the same as none) are dropped, and if that is not enough the oldest half goes.
    """

    def __init__(self, clock: Clock, *, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[Bucket, RateLimitPolicy]] = {}

    async def acquire(self, key: str, policy: RateLimitPolicy) -> RateLimitDecision:
        return self.acquire_now(key, policy)

    def acquire_now(self, key: str, policy: RateLimitPolicy) -> RateLimitDecision:
        """The synchronous core (also the Redis limiter's fallback)."""
        now = self.clock.monotonic()
        found = self._buckets.get(key)
        bucket, decision = take(found[0] if found else None, policy, now)
        self._buckets[key] = (bucket, policy)
        if len(self._buckets) > self.max_keys:
            self._sweep(now)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        full = [
            key
            for key, (bucket, policy) in self._buckets.items()
            if bucket.tokens + (now - bucket.stamp) * policy.rate >= policy.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self.max_keys:
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]

    async def close(self) -> None:
        self._buckets.clear()
