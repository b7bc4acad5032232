"""Reloading a real gateway process under load: no request fails, and a bad file changes nothing.

The gateway runs as its own process, the ERP behind it is the sandbox's SOAP service, and twenty
clients read orders for the whole test while the configuration file is rewritten and reloaded
three times: by SIGHUP (a change that replaces the ERP's adapter), by SIGHUP with a broken file
(rejected), and by ``POST /ops/reload`` (a new route).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import Iterator

import aiohttp
import pytest

from tests.chaos.credentials import OPS_TOKEN
from tests.chaos.load import Reply, drive
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos

LOAD_S = 6.0
ADMIN = {"Authorization": f"Bearer {OPS_TOKEN}"}
NEW_ROUTE = """
  GET /api/v1/reloaded-orders/{no}:
    backend: erp
    operation: SalesOrder.Read
    scopes: [orders:read]
    request: {No: path.no}
    response: {number: result.No}
"""


def seeded_orders() -> Iterator[str]:
    """The sandbox's 420 orders, round and round: every answer should be a 200.

    At the load this test drives, the first round outlasts it: nearly every read is a cold one.
    """
    return itertools.cycle(f"/api/v1/orders/SO-{100001 + i}" for i in range(420))


def rewrite(stack: ChaosStack, text: str) -> None:
    stack.config.write_text(text)


def gateway_log(stack: ChaosStack) -> str:
    return stack.gateway.log_path.read_text(errors="replace")


async def generation(http: aiohttp.ClientSession, stack: ChaosStack) -> int:
    async with http.get(f"{stack.gateway_url}/readyz") as response:
        return int((await response.json())["generation"])


async def until_generation(http: aiohttp.ClientSession, stack: ChaosStack, wanted: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while await generation(http, stack) != wanted:
        assert loop.time() < deadline, f"generation {wanted} not reached"
        await asyncio.sleep(0.05)


async def test_reloads_under_load_fail_no_request(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """Three reloads (one rejected) during six seconds of reads: every read answers 200."""
    # A slow ERP keeps calls in flight at every swap: the retired adapter must outlive them.
    await control.set_fault("erp", "slow:150")
    original = stack.config.read_text()
    load = asyncio.create_task(
        drive(http, stack.gateway_url, seeded_orders(), concurrency=20, duration_s=LOAD_S)
    )
    await asyncio.sleep(1.0)

    # 1. SIGHUP with a longer ERP read timeout: the ERP adapter is replaced mid-traffic.
    anchor = "read: 1000ms}"
    assert anchor in original
    rewrite(stack, original.replace(anchor, "read: 1200ms}"))
    os.kill(stack.gateway.pid, signal.SIGHUP)
    await until_generation(http, stack, 2)
    await asyncio.sleep(1.0)

    # 2. SIGHUP with a broken file: rejected, generation 2 keeps serving.
    rewrite(stack, original.replace("kind: soap", "kind: soapy"))
    os.kill(stack.gateway.pid, signal.SIGHUP)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while "configuration reload rejected" not in gateway_log(stack):
        assert loop.time() < deadline, "the rejection was never logged"
        await asyncio.sleep(0.05)
    assert await generation(http, stack) == 2

    # 3. POST /ops/reload adding a route.
    rewrite(stack, original + NEW_ROUTE)
    async with http.post(
        f"{stack.gateway_url}/ops/reload", json={"reason": "new route"}, headers=ADMIN
    ) as response:
        outcome = await response.json()
        assert response.status == 200, outcome
    assert outcome["generation"] == 3
    assert outcome["changes"]["routes"]["added"] == ["GET /api/v1/reloaded-orders/{no}"]
    async with http.get(f"{stack.gateway_url}/api/v1/reloaded-orders/SO-100002") as response:
        assert response.status == 200
        assert await response.json() == {"number": "SO-100002"}

    replies: list[Reply] = await load
    assert "retired configuration closed" in gateway_log(stack)  # the old ERP adapter
    failed = [str(r) for r in replies if r.status != 200]
    assert len(replies) > 100, len(replies)
    assert failed == [], failed[:5]
