"""The gateway on the embedded default config, in front of a live sandbox on free ports.

They serve as ``veneer serve`` does, with the hit lane answering fresh cache hits on kept-alive
connections, so every test of a cached read here holds the lane to the pipeline's behaviour too.
Its clients carry a bearer token with every scope the routes ask for (the demo secret signs it),
and the rate limit is raised out of the way: both have tests of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from facade.app import create_app
from facade.runtime import Runtime
from facade.settings import load_settings
from resilience import FakeClock
from sandbox.runner import Sandbox, SandboxPorts
from tests.support.credentials import bearer
from tests.support.environment import sandbox_env
from tests.support.serving import GatewayTestServer

Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    running = Sandbox(SandboxPorts.ephemeral())
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def gateway(
    sandbox: Sandbox, repo_root: Path, tmp_path: Path, aiohttp_client: Client
) -> TestClient:
    env = {**sandbox_env(sandbox, tmp_path), "VENEER_RATE_LIMIT_BURST": "100000"}
    settings = load_settings(repo_root / "config" / "gateway.yaml", environ=env)
    app = create_app(await Runtime.open(settings))
    return await aiohttp_client(GatewayTestServer(app), headers=bearer(settings))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed_gateway(
    sandbox: Sandbox, repo_root: Path, tmp_path: Path, aiohttp_client: Client, clock: FakeClock
) -> TestClient:
    """The gateway on an injected clock, so tests can age cached answers without sleeping."""
    env = {**sandbox_env(sandbox, tmp_path), "VENEER_RATE_LIMIT_BURST": "100000"}
    settings = load_settings(repo_root / "config" / "gateway.yaml", environ=env)
    runtime = await Runtime.open(settings, clock=clock)
    app = create_app(runtime, outbox_worker=False)
    return await aiohttp_client(GatewayTestServer(app), headers=bearer(settings))
