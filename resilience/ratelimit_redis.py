"""Rate limits shared by every gateway process through Redis: one atomic Lua script per request.

The script is :func:`resilience.ratelimit.take` in Lua: read the bucket, refill it, take a token,
write it back, all inside Redis, so two processes can never both spend the last token. Time is
Redis's own (``TIME``), so replicas with skewed clocks still agree; tests may pass it explicitly.
Buckets expire once they would be full again, so idle clients cost no memory.

When Redis is unreachable or slow the limiter **falls back to per-process buckets** (logged,
at most every ``warn_every_s``) and retries Redis after ``retry_after_s``: a rate limit is a
safety valve, not a reason to refuse traffic, yet failing fully open would leave a backend
unprotected exactly when the infrastructure is having a bad day. With N processes the
effective limit is at most N times the configured one until Redis is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from resilience.clock import Clock
from resilience.ratelimit import LocalRateLimiter, RateLimitDecision, RateLimitPolicy

__all__ = ["TOKEN_BUCKET_LUA", "RedisRateLimiter"]

log = structlog.get_logger("veneer.ratelimit")

TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
elseif now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * rate)
  stamp = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'stamp', string.format('%.17g', stamp))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, string.format('%.17g', tokens)}
"""


class RedisRateLimiter:
    """Token buckets in Redis under ``prefix``; per-process buckets while Redis is away."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        clock: Clock,
        prefix: str = "veneer:ratelimit:",
        timeout_s: float = 0.1,
        retry_after_s: float = 5.0,
        warn_every_s: float = 30.0,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.warn_every_s = warn_every_s
        self.fallback = LocalRateLimiter(clock)
        self._now = now
        self._script = client.register_script(TOKEN_BUCKET_LUA)
        self._down_until = float("-inf")
        self._warned_at = float("-inf")

    @classmethod
    def from_url(cls, url: str, *, clock: Clock, **kwargs: object) -> RedisRateLimiter:
        """A limiter on a fresh connection pool; nothing is contacted until the first request."""
        timeout = float(kwargs.get("timeout_s", 0.1))  # type: ignore[arg-type]
        client = redis.from_url(
            url,
            socket_timeout=max(timeout, 0.05),
            socket_connect_timeout=max(timeout, 0.05),
            decode_responses=True,
        )
        return cls(client, clock=clock, **kwargs)  # type: ignore[arg-type]

    async def acquire(self, key: str, policy: RateLimitPolicy) -> RateLimitDecision:
        if self.clock.monotonic() < self._down_until:
            return self.fallback.acquire_now(key, policy)
        args: list[str] = [repr(float(policy.rate)), str(policy.burst)]
        args.append(repr(self._now()) if self._now is not None else "")
        try:
            async with asyncio.timeout(self.timeout_s):
                allowed, tokens = await self._script(keys=[self.prefix + key], args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            self._unreachable(exc)
            return self.fallback.acquire_now(key, policy)
        return RateLimitDecision(bool(int(allowed)), policy, float(tokens))

    def _unreachable(self, exc: BaseException) -> None:
        now = self.clock.monotonic()
        self._down_until = now + self.retry_after_s
        if now - self._warned_at >= self.warn_every_s:
            self._warned_at = now
            log.warning(
                "rate limits fall back to this process: Redis unavailable",
                error=type(exc).__name__,
                reason=str(exc),
                retry_in_s=self.retry_after_s,
            )

    async def close(self) -> None:
        await self.client.aclose()
        await self.fallback.close()
