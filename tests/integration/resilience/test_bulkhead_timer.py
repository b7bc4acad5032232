"""The bulkhead's wait on the real clock: a loop timer, exact, and leaving nothing behind.

Unit tests drive the bulkhead with fake clocks (``tests/unit/resilience/test_bulkhead.py``);
with the system clock the wait is a ``call_later`` timer instead of a task, so these tests run
it for real, with waits of a few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import time

from resilience.bulkhead import Bulkhead, BulkheadConfig
from resilience.clock import SystemClock
from resilience.errors import BulkheadFull
from resilience.events import EventBus

WAIT_S = 0.05


def full_bulkhead() -> Bulkhead:
    return Bulkhead(
        "erp",
        BulkheadConfig(max_concurrent=1, max_wait=WAIT_S),
        clock=SystemClock(),
        events=EventBus(),
    )


async def test_a_waiter_is_refused_when_the_timer_fires() -> None:
    """With every slot held, a caller is refused after max_wait (not before), and is not left queued."""
    bulkhead = full_bulkhead()
    async with bulkhead.slot():
        started = time.monotonic()
        try:
            async with bulkhead.slot():
                raise AssertionError("entered a full bulkhead")
        except BulkheadFull:
            waited = time.monotonic() - started
        assert WAIT_S * 0.9 <= waited < 1.0
        assert bulkhead.waiting == 0 and bulkhead.in_flight == 1
    assert bulkhead.in_flight == 0


async def test_a_slot_freed_during_the_wait_is_granted_and_the_timer_is_harmless() -> None:
    """The waiter handed a slot keeps it past the moment its timer would have fired."""
    bulkhead = full_bulkhead()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with bulkhead.slot():
            entered.set()
            await asyncio.sleep(WAIT_S / 5)

    async def waiter() -> None:
        await entered.wait()
        async with bulkhead.slot():
            await asyncio.sleep(WAIT_S * 2)  # past the timer: still holding, not refused
            release.set()

    await asyncio.wait_for(asyncio.gather(holder(), waiter()), timeout=2.0)
    assert release.is_set()
    assert bulkhead.in_flight == 0 and bulkhead.waiting == 0


async def test_a_later_waiter_is_refused_at_its_own_end_not_at_an_earlier_ones() -> None:
    """A waiter that joined later than another ends later: when the timer fires for the first
    one's end, the second keeps waiting until its own."""
    bulkhead = full_bulkhead()
    started = time.monotonic()
    ended: list[float] = []

    async def wait(after: float) -> None:
        await asyncio.sleep(after)
        try:
            async with bulkhead.slot():
                raise AssertionError("entered a full bulkhead")
        except BulkheadFull:
            ended.append(time.monotonic() - started)

    async with bulkhead.slot():
        await asyncio.wait_for(asyncio.gather(wait(0.0), wait(WAIT_S * 0.6)), timeout=2.0)
    first, second = ended
    assert WAIT_S * 0.9 <= first < WAIT_S * 1.5
    assert WAIT_S * 1.5 <= second < 1.0
    assert bulkhead.waiting == 0 and bulkhead.in_flight == 0
