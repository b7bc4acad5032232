"""Bulkhead: a cap on concurrent calls per backend, a bounded wait, and no slot ever leaked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resilience.bulkhead import Bulkhead, BulkheadConfig
from resilience.clock import FakeClock
from resilience.deadline import Deadline
from resilience.errors import BulkheadFull
from resilience.events import BulkheadRejected, EventBus


class SteppedClock(FakeClock):
    """A fake clock whose sleeps end only when the test advances time past them."""

    def __init__(self) -> None:
        super().__init__()
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.monotonic() + seconds, wake))
        await wake

    @property
    def pending_sleeps(self) -> int:
        """Sleeps still waiting for time to pass (a cancelled one is not pending)."""
        return sum(not wake.done() for _, wake in self._sleepers)

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        for entry in list(self._sleepers):
            at, wake = entry
            if at <= self.monotonic():
                self._sleepers.remove(entry)
                if not wake.done():
                    wake.set_result(None)


async def settle() -> None:
    """Let every ready task run until it blocks."""
    for _ in range(20):
        await asyncio.sleep(0)


def bulkhead(
    clock: FakeClock, events: list[Any], *, max_concurrent: int = 2, max_wait: float = 0.25
) -> Bulkhead:
    bus = EventBus()
    bus.subscribe(events.append)
    config = BulkheadConfig(max_concurrent=max_concurrent, max_wait=max_wait)
    return Bulkhead("erp", config, clock=clock, events=bus)


async def hold(bh: Bulkhead, release: asyncio.Event, deadline: Deadline | None = None) -> str:
    async with bh.slot(deadline):
        await release.wait()
    return "done"


async def test_up_to_the_cap_calls_enter_at_once_and_leave_their_slots() -> None:
    """max_concurrent holders get slots without waiting; exiting gives them back."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=2)
    release = asyncio.Event()
    holders = [asyncio.ensure_future(hold(bh, release)) for _ in range(2)]
    await settle()
    assert (bh.in_flight, bh.waiting) == (2, 0)
    assert clock.slept == []
    release.set()
    assert await asyncio.gather(*holders) == ["done", "done"]
    assert bh.in_flight == 0


async def test_with_no_wait_a_full_bulkhead_rejects_without_awaiting() -> None:
    """max_wait=0: entering a full bulkhead raises BulkheadFull on the first step, no suspension."""
    events: list[Any] = []
    bh = bulkhead(FakeClock(), events, max_concurrent=1, max_wait=0.0)
    async with bh.slot():
        entering = bh.slot().__aenter__()
        with pytest.raises(BulkheadFull) as caught:
            entering.send(None)  # one step: raises instead of yielding to the loop
        assert caught.value.name == "erp"
        assert caught.value.retry_after == 0.0
        assert bh.waiting == 0
    assert events == [BulkheadRejected(at=1000.0, name="erp", in_flight=1)]
    assert bh.in_flight == 0


async def test_a_caller_waits_at_most_max_wait_then_is_rejected() -> None:
    """A full bulkhead makes a caller wait max_wait on the clock, then raise BulkheadFull (503)."""
    clock = SteppedClock()
    events: list[Any] = []
    bh = bulkhead(clock, events, max_concurrent=1, max_wait=0.25)
    release = asyncio.Event()
    holder = asyncio.ensure_future(hold(bh, release))
    await settle()
    waiter = asyncio.ensure_future(hold(bh, release))
    await settle()
    assert bh.waiting == 1
    clock.advance(0.2)
    await settle()
    assert not waiter.done()
    clock.advance(0.05)
    with pytest.raises(BulkheadFull) as caught:
        await waiter
    assert caught.value.retry_after == 0.25
    assert clock.slept == [0.25]
    assert [type(e) for e in events] == [BulkheadRejected]
    assert (bh.in_flight, bh.waiting) == (1, 0)
    release.set()
    await holder
    assert bh.in_flight == 0


async def test_a_slot_freed_during_the_wait_goes_to_the_waiter() -> None:
    """When a holder leaves within max_wait, the waiting caller gets its slot."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=0.25)
    first, second = asyncio.Event(), asyncio.Event()
    holder = asyncio.ensure_future(hold(bh, first))
    await settle()
    waiter = asyncio.ensure_future(hold(bh, second))
    await settle()
    clock.advance(0.1)
    first.set()
    await settle()
    assert holder.done() and not waiter.done()
    assert (bh.in_flight, bh.waiting) == (1, 0)
    assert clock.pending_sleeps == 0  # the wait's timer was stopped, not left to run out
    clock.advance(1.0)  # long past max_wait: the waiter holds its slot, the old timer is void
    await settle()
    second.set()
    assert await waiter == "done"
    assert bh.in_flight == 0


async def test_a_newcomer_does_not_overtake_a_waiter_handed_a_slot() -> None:
    """A freed slot belongs to the oldest waiter at once: a caller arriving meanwhile waits."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=5.0)
    first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
    holder = asyncio.ensure_future(hold(bh, first))
    await settle()
    waiter = asyncio.ensure_future(hold(bh, second))
    await settle()
    first.set()
    await holder  # the slot is handed to `waiter`, which has not resumed yet
    newcomer = asyncio.ensure_future(hold(bh, third))
    await settle()
    assert (bh.in_flight, bh.waiting) == (1, 1)  # the waiter holds it; the newcomer queues
    second.set()
    assert await waiter == "done"
    third.set()
    assert await newcomer == "done"
    assert bh.in_flight == 0


async def test_a_waiter_cancelled_while_waiting_leaks_nothing() -> None:
    """Cancelling a waiting caller removes it; the slots in use stay exactly the holders'."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=5.0)
    release = asyncio.Event()
    holder = asyncio.ensure_future(hold(bh, release))
    await settle()
    waiter = asyncio.ensure_future(hold(bh, release))
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (bh.in_flight, bh.waiting) == (1, 0)
    release.set()
    await holder
    assert bh.in_flight == 0


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    """A slot handed to a caller cancelled before it resumed goes to the next waiter, not lost."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=5.0)
    rest = asyncio.Event()
    held = bh.slot()
    await held.__aenter__()
    doomed = asyncio.ensure_future(hold(bh, rest))
    await settle()
    heir = asyncio.ensure_future(hold(bh, rest))
    await settle()
    assert bh.waiting == 2
    await held.__aexit__(None, None, None)  # hands the slot to `doomed`, which has not resumed
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await settle()
    assert (bh.in_flight, bh.waiting) == (1, 0)
    rest.set()
    assert await heir == "done"
    assert bh.in_flight == 0


async def test_a_holder_cancelled_inside_releases_its_slot() -> None:
    """Cancellation while holding a slot gives the slot back."""
    bh = bulkhead(SteppedClock(), [], max_concurrent=1)
    holder = asyncio.ensure_future(hold(bh, asyncio.Event()))
    await settle()
    assert bh.in_flight == 1
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    assert bh.in_flight == 0


async def test_an_error_inside_releases_the_slot() -> None:
    """A call that raises gives its slot back and the error passes through."""
    bh = bulkhead(FakeClock(), [], max_concurrent=1)
    with pytest.raises(ZeroDivisionError):
        async with bh.slot():
            _ = 1 / 0
    assert bh.in_flight == 0


async def test_the_wait_never_outlasts_the_deadline() -> None:
    """With less of the deadline left than max_wait, the caller waits only what is left."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=1.0)
    release = asyncio.Event()
    holder = asyncio.ensure_future(hold(bh, release))
    await settle()
    waiter = asyncio.ensure_future(hold(bh, release, Deadline(clock, 0.2)))
    await settle()
    clock.advance(0.2)
    with pytest.raises(BulkheadFull):
        await waiter
    assert clock.slept == pytest.approx([0.2])
    release.set()
    await holder


async def test_an_expired_deadline_rejects_at_once() -> None:
    """No deadline left and no free slot: rejected without waiting at all."""
    clock = SteppedClock()
    bh = bulkhead(clock, [], max_concurrent=1, max_wait=1.0)
    deadline = Deadline(clock, 0.0)
    async with bh.slot():
        with pytest.raises(BulkheadFull):
            async with bh.slot(deadline):
                pass
    assert clock.slept == []
