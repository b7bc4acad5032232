"""Fixtures of the chaos suite: the sandbox and the gateway as real processes, one pair per test.

Each test gets a fresh sandbox (fresh request counters and seed data) and a fresh gateway (closed
breakers, an empty cache, a new store), so no test can inherit another's breaker state or cached
answers. The processes are always stopped, and their logs printed at teardown, which pytest
shows only for a failing test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.chaos.config import ChaosTimings, write_chaos_config
from tests.chaos.credentials import authorization_header
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack


@pytest.fixture
def timings() -> ChaosTimings:
    return ChaosTimings()


@pytest.fixture
def stack(tmp_path: Path, repo_root: Path, timings: ChaosTimings) -> Iterator[ChaosStack]:
    config = write_chaos_config(repo_root, tmp_path, timings)
    running = ChaosStack(timings, config, store=tmp_path / "veneer.db", log_dir=tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        print(running.logs())


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The test's HTTP client, signed in, with connections enough for the largest burst (100)."""
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(
        connector=connector, headers=authorization_header()
    ) as session:
        yield session


@pytest.fixture
def control(stack: ChaosStack, http: aiohttp.ClientSession) -> SandboxControl:
    return SandboxControl(http, stack.control_url)
