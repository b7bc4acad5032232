"""Reads while the gateway's own store is slow to take writes (its SQLite write lock is held).

Found by the load tests: under 20 concurrent cold reads of a healthy ERP, a successful read's
cache write takes up to ~1.3 s (p99 ~1 s), all of it after the backend call and outside the
route's deadline. Holding the store's write lock from outside reproduces it deterministically:
the read waits for the lock for as long as SQLite's busy timeout (30 s) allows.
"""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import pytest

from tests.chaos.load import fetch
from tests.chaos.sandbox_control import SandboxControl
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos

SLACK_S = 0.5


async def test_a_read_is_not_held_past_its_deadline_by_a_locked_store(
    stack: ChaosStack, http: aiohttp.ClientSession, control: SandboxControl
) -> None:
    """A cold read of a healthy ERP answers within the route deadline even while the store's write lock is held elsewhere."""
    bound = stack.timings.order_route_timeout_s + SLACK_S
    hold_s = bound + 1.5  # released then whatever happens, so the test stays bounded
    before = await control.requests("erp")

    holder = sqlite3.connect(stack.store, timeout=1.0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    release = asyncio.get_running_loop().call_later(hold_s, holder.rollback)
    try:
        reply = await fetch(
            http, stack.gateway_url, "/api/v1/orders/SO-100003", timeout_s=hold_s + 5
        )
    finally:
        release.cancel()
        holder.rollback()
        holder.close()

    assert reply.status == 200, str(reply)
    assert await control.requests("erp") - before == 1  # the ERP answered; only storing waited
    assert reply.elapsed_s <= bound, f"answered after {reply.elapsed_s:.2f}s (deadline {bound}s)"
