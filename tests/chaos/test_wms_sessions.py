"""Stock reads while the WMS ends every session under its clients (Fishbowl 1164)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from sandbox.dataset import build_world
from tests.chaos.answers import describe
from tests.chaos.load import drive, fetch
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos

CONCURRENCY = 20


def stock_paths() -> Iterator[str]:
    """Each item of the sandbox's seed once: stock reads are cached, so only new SKUs reach the WMS."""
    return iter([f"/api/v1/products/{item.no}/stock" for item in build_world().items])


async def test_stock_reads_survive_the_wms_logging_every_session_off(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """After the WMS drops every session, stock reads still answer 200: the gateway logs in again and resends, once per dropped ticket."""
    paths = stock_paths()
    first = await fetch(http, stack.gateway_url, next(paths))  # logs in
    assert first.status == 200, str(first)

    await control.set_fault("wms", "drop_session")
    before = await control.requests("wms")
    reply = await fetch(http, stack.gateway_url, next(paths))
    assert reply.status == 200, str(reply)
    # InvQtyRq refused for its ticket (1164), LoginRq, InvQtyRq again.
    assert await control.requests("wms") - before == 3

    # Again, with 20 readers all holding the dropped ticket at once: one login serves them all.
    await control.set_fault("wms", "drop_session")
    before = await control.requests("wms")
    replies = await drive(
        http, stack.gateway_url, paths, concurrency=CONCURRENCY, max_requests=60, duration_s=5.0
    )
    assert len(replies) == 60
    assert all(r.status == 200 for r in replies), describe(r for r in replies if r.status != 200)
    extra = await control.requests("wms") - before - len(replies)
    # At least one read was refused and one login made; at most every concurrent read was
    # refused once, plus that one login.
    assert 2 <= extra <= CONCURRENCY + 1, f"{extra} WMS requests beyond one per read"
