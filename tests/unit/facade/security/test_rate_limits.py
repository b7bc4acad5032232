"""Rate limits over HTTP: 429 with Retry-After and the draft RateLimit headers, per caller and route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from facade.app import create_app
from facade.runtime import Runtime
from resilience import FakeClock

from .conftest import READER_KEY, WRITER_KEY, Keys, load, memory, registry, write_config

Client = Callable[..., Awaitable[TestClient]]
READER = {"X-API-Key": READER_KEY}
WRITER = {"X-API-Key": WRITER_KEY}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed(tmp_path: Path, keys: Keys, clock: FakeClock, aiohttp_client: Client) -> TestClient:
    settings = load(write_config(tmp_path, keys))
    runtime = await Runtime.open(settings, registry=registry(), clock=clock)
    return await aiohttp_client(create_app(runtime, outbox_worker=False))


async def test_the_burst_passes_then_429_with_retry_after(timed: TestClient) -> None:
    """burst: 2 lets two requests through (a cache hit counts); the third is 429 with Retry-After: 1."""
    first = await timed.get("/api/v1/limited/1", headers=READER)
    second = await timed.get("/api/v1/limited/1", headers=READER)
    third = await timed.get("/api/v1/limited/1", headers=READER)
    assert (first.status, second.status, third.status) == (200, 200, 429)
    body = await third.json(content_type=None)
    assert body["code"] == "rate_limited" and body["status"] == 429
    assert third.headers["Retry-After"] == "1"
    assert third.headers["RateLimit"] == '"route";r=0;t=2'
    assert third.headers["RateLimit-Policy"] == '"route";q=2;w=2'
    assert "hit" in second.headers["Cache-Status"]  # cached answers spend tokens too
    assert len(memory(timed).calls) == 1


async def test_every_answer_carries_the_ratelimit_headers(timed: TestClient) -> None:
    """Successes and problems alike say how much is left: r counts down, t is the time to full."""
    ok = await timed.get("/api/v1/limited/1", headers=READER)
    assert ok.headers["RateLimit"] == '"route";r=1;t=1'
    missing = await timed.get("/api/v1/limited/999", headers=READER)
    assert missing.status == 404 and missing.headers["RateLimit"] == '"route";r=0;t=2'
    default = await timed.get("/api/v1/things/1", headers=READER)
    assert default.headers["RateLimit-Policy"] == '"default";q=1000;w=1'


async def test_tokens_come_back_at_the_configured_rate(timed: TestClient, clock: FakeClock) -> None:
    """After a refusal, one second (rate 1/s) buys exactly one more request."""
    for _ in range(2):
        await timed.get("/api/v1/limited/1", headers=READER)
    assert (await timed.get("/api/v1/limited/1", headers=READER)).status == 429
    clock.advance(1.0)
    assert (await timed.get("/api/v1/limited/1", headers=READER)).status == 200
    assert (await timed.get("/api/v1/limited/1", headers=READER)).status == 429


async def test_buckets_are_per_caller(timed: TestClient) -> None:
    """One caller using up its bucket leaves another caller's untouched."""
    for _ in range(3):
        await timed.get("/api/v1/limited/1", headers=READER)
    assert (await timed.get("/api/v1/limited/1", headers=READER)).status == 429
    assert (await timed.get("/api/v1/limited/1", headers=WRITER)).status == 200


async def test_unauthenticated_requests_do_not_spend_a_callers_tokens(timed: TestClient) -> None:
    """Refused credentials are turned away before the limiter: they cannot drain a real caller's bucket."""
    for _ in range(5):
        assert (await timed.get("/api/v1/limited/1")).status == 401
    assert (await timed.get("/api/v1/limited/1", headers=READER)).status == 200
