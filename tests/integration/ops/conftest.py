"""The gateway with its ops surface, over a live sandbox, on an injected clock."""

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

Client = Callable[..., Awaitable[TestClient]]
OPS_TOKEN = "ops-test-token-0001"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    running = Sandbox(SandboxPorts.ephemeral())
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def ops(
    sandbox: Sandbox,
    repo_root: Path,
    tmp_path: Path,
    aiohttp_client: Client,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> TestClient:
    monkeypatch.setenv("VENEER_OPS_TOKEN", OPS_TOKEN)
    env = {
        **sandbox_env(sandbox, tmp_path),
        "VENEER_OPS_TOKEN": OPS_TOKEN,
        "VENEER_RATE_LIMIT_BURST": "100000",
    }
    settings = load_settings(repo_root / "config" / "gateway.yaml", environ=env)
    runtime = await Runtime.open(settings, clock=clock)
    # /api calls carry an API token by default; ops calls pass admin() (or no credential).
    app = create_app(runtime, outbox_worker=False)
    return await aiohttp_client(app, headers=bearer(settings))


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPS_TOKEN}"}
