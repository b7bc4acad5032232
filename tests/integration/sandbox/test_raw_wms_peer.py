"""The benchmark's raw WMS peer makes real round trips, so the WMS target's floor is a real one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bench.peers.raw_wms import Refused, make_app
from sandbox.dataset import build_world
from sandbox.faults import FaultSwitch
from sandbox.runner import WMS_PASSWORD, WMS_USER
from sandbox.wms import WmsSandbox


@pytest.fixture
async def wms() -> AsyncIterator[WmsSandbox]:
    sandbox = WmsSandbox(
        build_world(),
        FaultSwitch("wms", supports_sessions=True),
        port=0,
        users={WMS_USER: WMS_PASSWORD},  # as `veneer sandbox` runs it
    )
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


async def test_each_get_is_a_served_inventory_read(wms: WmsSandbox, aiohttp_client: Any) -> None:
    """With the sandbox's own login, every GET /wms is an InvQtyRs the WMS served (status 1000)
    for the SKU asked for, not a refusal, which the WMS answers far more cheaply."""
    client = await aiohttp_client(make_app("127.0.0.1", wms.port, sku="1000-GR"))
    for _ in range(3):
        reply = await client.get("/wms")
        answer = json.loads(await reply.read())["FbiJson"]["FbiMsgsRs"]["InvQtyRs"]
        assert answer["statusCode"] == 1000
        assert {row["Part"]["Num"] for row in answer["InvQty"]} == {"1000-GR"}


async def test_a_refused_login_stops_the_peer_from_starting(
    wms: WmsSandbox, aiohttp_client: Any
) -> None:
    """A wrong password fails the peer's startup, naming the refusal, rather than letting it
    serve error replies as if they were round trips."""
    with pytest.raises(Refused, match="LoginRs"):
        await aiohttp_client(make_app("127.0.0.1", wms.port, password="not-the-password"))
