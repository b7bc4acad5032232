"""The outbox: durable enqueue, claims with leases, per-resource order, retries, dead letters."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from resilience.clock import FakeClock, SystemClock
from resilience.outbox import Outbox
from resilience.outbox_config import OutboxConfig
from resilience.outbox_entry import EntryNotFound, InvalidTransition, OutboxEntry
from resilience.store import Store


@pytest.fixture
def outbox(store: Store, clock: FakeClock) -> Outbox:
    return Outbox(store, clock=clock)


async def put(outbox: Outbox, resource: str | None = None, **overrides: Any) -> OutboxEntry:
    values: dict[str, Any] = {
        "backend": "erp",
        "operation": "Create",
        "params": {"customer": "C1", "lines": [{"sku": "A", "qty": 2}]},
        "resource": resource,
        "idempotency_key": "idem-1",
        "max_attempts": 3,
        "request_id": "req-1",
    } | overrides
    return await outbox.enqueue(**values)


def ids(entries: list[OutboxEntry]) -> list[str]:
    return [entry.id for entry in entries]


async def test_enqueue_stores_a_queued_entry(outbox: Outbox, clock: FakeClock) -> None:
    """An enqueued write reads back queued, with its params, due now, times tz-aware UTC."""
    entry = await put(outbox, "order:1")
    assert len(entry.id) == 32 and int(entry.id, 16) >= 0
    assert entry.status == "queued" and entry.attempts == 0 and entry.max_attempts == 3
    assert entry.created_at == entry.next_attempt_at == clock.now()
    assert entry.created_at.utcoffset() == timedelta(0)
    assert await outbox.get(entry.id) == entry
    assert entry.params == {"customer": "C1", "lines": [{"sku": "A", "qty": 2}]}


async def test_get_of_an_unknown_id_is_none(outbox: Outbox) -> None:
    """Looking up an id that was never issued answers None."""
    assert await outbox.get("0" * 32) is None


async def test_enqueue_refuses_what_cannot_be_kept(outbox: Outbox) -> None:
    """Params that are not JSON, or fewer than one attempt, are refused up front."""
    with pytest.raises(ValueError, match="JSON"):
        await put(outbox, params={"when": object()})
    with pytest.raises(ValueError, match="max_attempts"):
        await put(outbox, max_attempts=0)


async def test_claim_leases_entries_once(outbox: Outbox, clock: FakeClock) -> None:
    """A claimed entry is delivering with a lease and is not handed out again."""
    first, second = await put(outbox), await put(outbox)
    claimed = await outbox.claim(lease_s=30)
    assert ids(claimed) == [first.id, second.id]
    assert {e.status for e in claimed} == {"delivering"}
    assert claimed[0].lease_until == clock.now() + timedelta(seconds=30)
    assert await outbox.claim() == []


async def test_claim_respects_limit_and_backend(outbox: Outbox) -> None:
    """claim takes at most limit entries, only of the backends asked for, oldest first."""
    erp = [await put(outbox) for _ in range(3)]
    crm = await put(outbox, backend="crm")
    assert await outbox.due_backends() == {"erp", "crm"}
    assert ids(await outbox.claim(backends=["erp"], limit=2)) == ids(erp[:2])
    assert ids(await outbox.claim(backends={"crm"})) == [crm.id]


async def test_done_entries_keep_the_result(outbox: Outbox) -> None:
    """mark_done records the backend's answer (anything not JSON as text) and ends delivery."""
    entry = await put(outbox)
    await outbox.claim()
    done = await outbox.mark_done(entry.id, {"No": "SO-1"})
    assert done.status == "done" and done.result == {"No": "SO-1"}
    assert await outbox.claim() == []
    weird = await put(outbox)
    await outbox.claim()
    assert (await outbox.mark_done(weird.id, {1: Path("/x")})).result == {"1": "/x"}


async def test_a_transient_failure_is_retried_later(outbox: Outbox, clock: FakeClock) -> None:
    """mark_failed with a delay counts the attempt and makes it due only after the delay."""
    entry = await put(outbox)
    await outbox.claim()
    failed = await outbox.mark_failed(entry.id, error="ConnectionRefused", retry_in_s=20)
    assert failed.status == "queued" and failed.attempts == 1
    assert failed.last_error == "ConnectionRefused"
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=20)
    clock.advance(19.9)
    assert await outbox.claim() == []
    clock.advance(0.1)
    assert ids(await outbox.claim()) == [entry.id]


async def test_the_last_failed_attempt_dead_letters(outbox: Outbox) -> None:
    """After max_attempts transient failures the entry is dead and no longer claimed."""
    entry = await put(outbox, max_attempts=3)
    for attempt in range(1, 4):
        assert ids(await outbox.claim()) == [entry.id]
        failed = await outbox.mark_failed(entry.id, error=f"boom {attempt}", retry_in_s=0)
    assert failed.status == "dead" and failed.attempts == 3 and failed.last_error == "boom 3"
    assert await outbox.claim() == []


async def test_a_permanent_failure_dead_letters_at_once(outbox: Outbox) -> None:
    """retry_in_s=None means the backend refused for good: dead after one attempt."""
    entry = await put(outbox, max_attempts=10)
    await outbox.claim()
    dead = await outbox.mark_failed(entry.id, error="validation", retry_in_s=None)
    assert dead.status == "dead" and dead.attempts == 1


async def test_release_does_not_count_an_attempt(outbox: Outbox, clock: FakeClock) -> None:
    """A claimed entry given back untried keeps its attempts and is due after the delay."""
    entry = await put(outbox)
    await outbox.claim()
    released = await outbox.release(entry.id, retry_in_s=5)
    assert released.status == "queued" and released.attempts == 0
    assert await outbox.claim() == []
    clock.advance(5)
    assert ids(await outbox.claim()) == [entry.id]


async def test_one_resource_is_delivered_in_order(outbox: Outbox) -> None:
    """A resource's second entry waits for its first; other resources and None interleave."""
    r1, r2 = await put(outbox, "order:1"), await put(outbox, "order:1")
    s1 = await put(outbox, "order:2")
    free = await put(outbox, None)
    assert ids(await outbox.claim()) == [r1.id, s1.id, free.id]
    assert await outbox.claim() == []
    await outbox.mark_done(r1.id, None)
    assert ids(await outbox.claim()) == [r2.id]


async def test_a_resource_waits_while_its_head_retries(outbox: Outbox, clock: FakeClock) -> None:
    """A first entry queued for retry still holds back the second, even when the second is due."""
    r1, r2 = await put(outbox, "order:1"), await put(outbox, "order:1")
    await outbox.claim()
    await outbox.mark_failed(r1.id, error="timeout", retry_in_s=60)
    assert await outbox.claim() == []
    clock.advance(60)
    assert ids(await outbox.claim()) == [r1.id]
    await outbox.mark_done(r1.id, None)
    assert ids(await outbox.claim()) == [r2.id]


async def test_a_dead_entry_blocks_its_resource_until_handled(outbox: Outbox) -> None:
    """Dead blocks the resource; discarding it lets the next through; replay re-queues it first."""
    r1, r2 = await put(outbox, "order:1"), await put(outbox, "order:1")
    await outbox.claim()
    await outbox.mark_failed(r1.id, error="validation", retry_in_s=None)
    assert await outbox.claim() == []
    replayed = await outbox.replay(r1.id)
    assert replayed.status == "queued" and replayed.attempts == 0
    assert ids(await outbox.claim()) == [r1.id]
    await outbox.mark_failed(r1.id, error="validation", retry_in_s=None)
    discarded = await outbox.discard(r1.id)
    assert discarded.status == "discarded"
    assert ids(await outbox.claim()) == [r2.id]


async def test_an_expired_lease_is_claimed_again(outbox: Outbox, clock: FakeClock) -> None:
    """An entry whose worker died is handed out again once its lease lapses."""
    entry = await put(outbox, "order:1")
    await outbox.claim(lease_s=30)
    clock.advance(29)
    assert await outbox.claim() == []
    clock.advance(1)
    again = await outbox.claim(lease_s=30)
    assert ids(again) == [entry.id] and again[0].attempts == 0


async def test_a_late_success_after_the_lease_lapsed_still_counts(outbox: Outbox) -> None:
    """mark_done is accepted from queued too, so a slow success is not delivered twice."""
    entry = await put(outbox)
    await outbox.claim()
    await outbox.release(entry.id)
    assert (await outbox.mark_done(entry.id, "ok")).status == "done"
    assert await outbox.claim() == []


async def test_operator_transitions_are_checked(outbox: Outbox) -> None:
    """Replay needs a dead entry, discard a dead or queued one, and unknown ids are named."""
    entry = await put(outbox)
    with pytest.raises(InvalidTransition, match="is queued"):
        await outbox.replay(entry.id)
    await outbox.claim()
    with pytest.raises(InvalidTransition, match="is delivering"):
        await outbox.discard(entry.id)
    with pytest.raises(EntryNotFound):
        await outbox.replay("f" * 32)
    queued = await put(outbox)
    assert (await outbox.discard(queued.id)).status == "discarded"


async def test_mark_failed_ignores_an_entry_not_delivering(outbox: Outbox) -> None:
    """A failure report for an entry no longer leased (discarded meanwhile) changes nothing."""
    entry = await put(outbox)
    await outbox.discard(entry.id)
    after = await outbox.mark_failed(entry.id, error="late", retry_in_s=1)
    assert after.status == "discarded" and after.attempts == 0


async def test_counts_and_list(outbox: Outbox) -> None:
    """counts covers every status; list filters by status and backend, in delivery order."""
    a, b, c = await put(outbox), await put(outbox), await put(outbox, backend="crm")
    await outbox.claim(limit=1)
    await outbox.mark_failed(a.id, error="x", retry_in_s=None)
    assert await outbox.counts() == {
        "queued": 2,
        "delivering": 0,
        "done": 0,
        "dead": 1,
        "discarded": 0,
    }
    assert ids(await outbox.list()) == [a.id, b.id, c.id]
    assert ids(await outbox.list(status="queued")) == [b.id, c.id]
    assert ids(await outbox.list(status="queued", backend="crm")) == [c.id]
    assert ids(await outbox.list(limit=1)) == [a.id]


async def test_purge_finished_keeps_pending_entries(outbox: Outbox, clock: FakeClock) -> None:
    """Old done and discarded entries are deleted; queued and dead ones never are."""
    done, dropped, dead, waiting = [await put(outbox) for _ in range(4)]
    await outbox.claim(limit=1)
    await outbox.mark_done(done.id, None)
    await outbox.discard(dropped.id)
    await outbox.claim(limit=1)
    await outbox.mark_failed(dead.id, error="x", retry_in_s=None)
    clock.advance(3600)
    assert await outbox.purge_finished(older_than_s=3600) == 2
    assert ids(await outbox.list()) == [dead.id, waiting.id]


async def test_concurrent_claims_never_share_an_entry(outbox: Outbox) -> None:
    """Racing claimers (SKIP LOCKED on PostgreSQL) split the due entries without overlap."""
    entries = [await put(outbox) for _ in range(12)]
    batches = await asyncio.gather(*(outbox.claim(limit=4) for _ in range(4)))
    claimed = [entry.id for batch in batches for entry in batch]
    assert len(claimed) == len(set(claimed)) == 12
    assert set(claimed) == set(ids(entries))


def test_outbox_config_validates() -> None:
    """A backoff ceiling below the first backoff is refused."""
    with pytest.raises(ValueError, match="backoff_max"):
        OutboxConfig(backoff=10, backoff_max=1)


_ENQUEUE_THEN_DIE = """
import asyncio, os, signal, sys
from resilience.clock import SystemClock
from resilience.outbox import Outbox
from resilience.store import Store

async def main():
    store = await Store.open(sys.argv[1], clock=SystemClock())
    entry = await Outbox(store, clock=SystemClock()).enqueue(
        backend="erp", operation="Create", params={"n": 1}, resource="order:1",
        idempotency_key="k", max_attempts=5, request_id="r")
    print(entry.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def test_an_acknowledged_entry_survives_sigkill(tmp_path: Path) -> None:
    """A process killed right after enqueue returned leaves the entry in the SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'veneer.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _ENQUEUE_THEN_DIE, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    entry_id = done.stdout.strip()
    assert len(entry_id) == 32

    async def reopen() -> OutboxEntry | None:
        store = await Store.open(url, clock=SystemClock())
        try:
            return await Outbox(store, clock=SystemClock()).get(entry_id)
        finally:
            await store.close()

    found = asyncio.run(reopen())
    assert found is not None and found.status == "queued" and found.params == {"n": 1}
