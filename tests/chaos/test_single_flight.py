"""A stampede of identical cold reads costs the legacy system one call."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.chaos.load import fetch
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos

STAMPEDE = 100


async def test_100_concurrent_identical_cold_gets_make_one_erp_call(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """100 simultaneous GETs of one uncached order reach the ERP once and all get its answer."""
    # A slow ERP keeps the first call open while the other 99 arrive, so they must join it
    # (single-flight) rather than find a cache entry it already stored.
    await control.set_fault("erp", "slow:300")
    before = await control.requests("erp")

    replies = await asyncio.gather(
        *(fetch(http, stack.gateway_url, "/api/v1/orders/SO-100007") for _ in range(STAMPEDE))
    )

    assert await control.requests("erp") - before == 1
    assert [r.status for r in replies] == [200] * STAMPEDE, [
        str(r) for r in replies if r.status != 200
    ]
    assert len({r.body for r in replies}) == 1
    statuses = [r.headers.get("Cache-Status", "") for r in replies]
    assert sum("collapsed" in s for s in statuses) >= 1, statuses[:5]
