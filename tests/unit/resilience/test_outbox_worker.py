"""The outbox worker: delivery in order, when allowed, with retries, dead letters and events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resilience.clock import FakeClock
from resilience.errors import BreakerOpen
from resilience.events import Event, EventBus
from resilience.outbox import Outbox
from resilience.outbox_entry import OutboxEntry
from resilience.outbox_worker import (
    OutboxDeadLettered,
    OutboxDeferred,
    OutboxDelivered,
    OutboxRetryScheduled,
    OutboxWorker,
    exponential_backoff,
)
from resilience.store import Store


class Transient(Exception):
    def __init__(self, message: str = "connection refused", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(Exception):
    pass


class Backend:
    """Records what it is asked to deliver; fails with the queued errors first."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.delivered: list[tuple[str, dict[str, Any], str | None]] = []
        self.calls = 0
        self.arrived = asyncio.Event()

    async def __call__(self, entry: OutboxEntry) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append((entry.backend, entry.params, entry.idempotency_key))
        self.arrived.set()
        return {"ok": entry.params["n"]}


@pytest.fixture
def outbox(store: Store, clock: FakeClock) -> Outbox:
    return Outbox(store, clock=clock)


@pytest.fixture
def events() -> list[Event]:
    return []


def make_worker(
    outbox: Outbox, backend: Backend, clock: FakeClock, events: list[Event], **options: Any
) -> OutboxWorker:
    bus = EventBus()
    bus.subscribe(events.append)
    options.setdefault("backoff", lambda attempt: 10.0 * attempt)
    return OutboxWorker(
        outbox,
        backend,
        clock=clock,
        events=bus,
        is_transient=lambda exc: isinstance(exc, Transient),
        **options,
    )


async def put(outbox: Outbox, n: int, resource: str | None = None, backend: str = "erp") -> str:
    entry = await outbox.enqueue(
        backend=backend,
        operation="Create",
        params={"n": n},
        resource=resource,
        idempotency_key=f"idem-{n}",
        max_attempts=3,
        request_id=None,
    )
    return entry.id


async def test_delivers_in_order_per_resource(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """Writes to one resource arrive in enqueue order, with their idempotency keys, and end done."""
    backend = Backend()
    worker = make_worker(outbox, backend, clock, events)
    first, second, other = (
        await put(outbox, 1, "o:1"),
        await put(outbox, 2, "o:1"),
        await put(outbox, 3, "o:2"),
    )
    assert await worker.run_once() == 2
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [(p["n"], key) for _, p, key in backend.delivered] == [
        (1, "idem-1"),
        (3, "idem-3"),
        (2, "idem-2"),
    ]
    for entry_id, n in ((first, 1), (second, 2), (other, 3)):
        entry = await outbox.get(entry_id)
        assert entry is not None and entry.status == "done" and entry.result == {"ok": n}
    assert [type(e) for e in events] == [OutboxDelivered] * 3


async def test_respects_can_deliver(outbox: Outbox, clock: FakeClock, events: list[Event]) -> None:
    """Entries of a backend that cannot take calls are neither claimed nor tried."""
    backend = Backend()
    open_backends = {"erp"}
    worker = make_worker(
        outbox, backend, clock, events, can_deliver=lambda b: b not in open_backends
    )
    blocked, free = await put(outbox, 1), await put(outbox, 2, backend="crm")
    assert await worker.run_once() == 1
    assert [p["n"] for _, p, _ in backend.delivered] == [2]
    entry = await outbox.get(blocked)
    assert entry is not None and entry.status == "queued" and entry.attempts == 0
    open_backends.clear()
    assert await worker.run_once() == 1
    assert [p["n"] for _, p, _ in backend.delivered] == [2, 1]
    assert {(await outbox.get(i)).status for i in (blocked, free)} == {"done"}  # type: ignore[union-attr]


async def test_a_transient_failure_retries_after_backoff(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """A transient error counts an attempt and the entry waits backoff(attempt) before retrying."""
    backend = Backend(Transient())
    worker = make_worker(outbox, backend, clock, events)
    entry_id = await put(outbox, 1)
    assert await worker.run_once() == 1
    entry = await outbox.get(entry_id)
    assert entry is not None and entry.status == "queued" and entry.attempts == 1
    assert entry.last_error == "Transient: connection refused"
    assert events == [
        OutboxRetryScheduled(
            at=clock.monotonic(),
            id=entry_id,
            backend="erp",
            operation="Create",
            attempts=1,
            delay_s=10.0,
            error="Transient: connection refused",
        )
    ]
    clock.advance(9)
    assert await worker.run_once() == 0
    clock.advance(1)
    assert await worker.run_once() == 1
    assert backend.delivered and isinstance(events[-1], OutboxDelivered)


async def test_retry_after_is_honoured(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """A backend's Retry-After longer than the backoff sets the delay."""
    worker = make_worker(outbox, Backend(Transient(retry_after=45)), clock, events)
    entry_id = await put(outbox, 1)
    await worker.run_once()
    entry = await outbox.get(entry_id)
    assert entry is not None
    assert (entry.next_attempt_at - clock.now()).total_seconds() == 45


async def test_transient_failures_end_in_the_dead_letter(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """After max_attempts transient failures the entry is dead and an event says so."""
    worker = make_worker(outbox, Backend(Transient(), Transient(), Transient()), clock, events)
    entry_id = await put(outbox, 1)
    for _ in range(3):
        assert await worker.run_once() == 1
        clock.advance(100)
    entry = await outbox.get(entry_id)
    assert entry is not None and entry.status == "dead" and entry.attempts == 3
    assert [type(e) for e in events] == [OutboxRetryScheduled] * 2 + [OutboxDeadLettered]
    assert await worker.run_once() == 0


async def test_a_permanent_failure_is_dead_at_once(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """An error that is not transient dead-letters the entry on the first attempt."""
    worker = make_worker(outbox, Backend(Permanent("no such customer")), clock, events)
    entry_id = await put(outbox, 1)
    await worker.run_once()
    entry = await outbox.get(entry_id)
    assert entry is not None and entry.status == "dead" and entry.attempts == 1
    assert isinstance(events[0], OutboxDeadLettered)
    assert events[0].error == "Permanent: no such customer"


async def test_breaker_open_defers_without_an_attempt(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """BreakerOpen means the call was never made: no attempt counted, due after retry_after."""
    worker = make_worker(outbox, Backend(BreakerOpen("open", retry_after=7)), clock, events)
    entry_id = await put(outbox, 1)
    await worker.run_once()
    entry = await outbox.get(entry_id)
    assert entry is not None and entry.status == "queued" and entry.attempts == 0
    assert isinstance(events[0], OutboxDeferred) and events[0].delay_s == 7
    clock.advance(7)
    assert await worker.run_once() == 1
    assert (await outbox.get(entry_id)).status == "done"  # type: ignore[union-attr]


async def test_one_transient_failure_pauses_that_backend_for_the_pass(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """After a transient failure the backend's other claimed entries are released untried."""
    backend = Backend(Transient())
    worker = make_worker(outbox, backend, clock, events)
    a, b = await put(outbox, 1), await put(outbox, 2)
    c = await put(outbox, 3, backend="crm")
    assert await worker.run_once() == 3
    assert backend.calls == 2  # erp once (failed), crm once
    held = await outbox.get(b)
    assert held is not None and held.status == "queued" and held.attempts == 0
    assert (held.next_attempt_at - clock.now()).total_seconds() == 10
    assert (await outbox.get(a)).attempts == 1  # type: ignore[union-attr]
    assert (await outbox.get(c)).status == "done"  # type: ignore[union-attr]


async def test_a_breaker_opening_mid_batch_defers_the_rest(
    outbox: Outbox, clock: FakeClock, events: list[Event]
) -> None:
    """can_deliver is asked again before each delivery, so an opened breaker stops the batch."""
    allowed = {"erp": True}
    backend = Backend()

    async def deliver(entry: OutboxEntry) -> Any:
        allowed["erp"] = False
        return await backend(entry)

    worker = make_worker(outbox, backend, clock, events, can_deliver=lambda b: allowed[b])
    worker._deliver = deliver
    await put(outbox, 1)
    second = await put(outbox, 2)
    assert await worker.run_once() == 2
    assert len(backend.delivered) == 1
    assert (await outbox.get(second)).attempts == 0  # type: ignore[union-attr]
    assert isinstance(events[-1], OutboxDeferred)


async def test_cancellation_is_not_swallowed(outbox: Outbox, clock: FakeClock) -> None:
    """A cancelled delivery propagates and leaves the entry leased for redelivery."""
    entry_id = await put(outbox, 1)
    worker = make_worker(outbox, Backend(asyncio.CancelledError()), clock, [])
    with pytest.raises(asyncio.CancelledError):
        await worker.run_once()
    entry = await outbox.get(entry_id)
    assert entry is not None and entry.status == "delivering" and entry.attempts == 0


class IdleClock(FakeClock):
    """A fake clock whose sleep never ends, so only wake() or stop() starts the next pass."""

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.Event().wait()


async def test_run_delivers_then_idles_until_woken(store: Store, events: list[Event]) -> None:
    """The loop delivers what is due, idles for poll_s, and a wake makes it pass again at once."""
    clock = IdleClock()
    outbox = Outbox(store, clock=clock)
    backend = Backend()
    worker = make_worker(outbox, backend, clock, events, poll_s=2.0)
    await put(outbox, 1)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(backend.arrived.wait(), timeout=10)
    backend.arrived.clear()
    await put(outbox, 2)
    worker.wake()
    await asyncio.wait_for(backend.arrived.wait(), timeout=10)
    await asyncio.wait_for(worker.stop(), timeout=10)
    assert task.done() and task.exception() is None
    assert [p["n"] for _, p, _ in backend.delivered] == [1, 2]
    assert 2.0 in clock.slept


async def test_run_survives_a_failing_pass(
    outbox: Outbox, clock: FakeClock, events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass that fails (the store unreachable) is logged and the loop carries on."""
    backend = Backend()
    worker = make_worker(outbox, backend, clock, events)
    real = outbox.due_backends
    failures = iter([RuntimeError("store down")])

    async def flaky() -> set[str]:
        for error in failures:
            raise error
        return await real()

    monkeypatch.setattr(outbox, "due_backends", flaky)
    await put(outbox, 1)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(backend.arrived.wait(), timeout=10)
    await worker.stop()
    assert task.done() and task.exception() is None


async def test_run_refuses_to_run_twice(outbox: Outbox, events: list[Event]) -> None:
    """A second concurrent run() on one worker is a programming error."""
    worker = make_worker(outbox, Backend(), IdleClock(), events)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already running"):
        await worker.run()
    await asyncio.wait_for(worker.stop(), timeout=10)
    await task


def test_exponential_backoff_doubles_within_jitter_and_cap() -> None:
    """Each delay lies in [ceiling/2, ceiling], the ceiling doubling per attempt up to the cap."""
    backoff = exponential_backoff(base=1.0, cap=8.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        samples = [backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1
