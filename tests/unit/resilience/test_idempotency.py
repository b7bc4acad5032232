"""Idempotency records: one owner per key, replays, mismatches, expiry, and atomic begins."""

from __future__ import annotations

import asyncio

import pytest

from resilience.clock import FakeClock
from resilience.idempotency import Begun, IdempotencyStore, InProgress, Mismatch, Replay
from resilience.store import Store

HEADERS = (("content-type", "application/json"), ("location", "/api/v1/orders/7"))


@pytest.fixture
def records(store: Store, clock: FakeClock) -> IdempotencyStore:
    return IdempotencyStore(store, clock=clock)


async def test_the_first_use_owns_the_key(records: IdempotencyStore) -> None:
    """A fresh key is Begun; the same request again while it runs is InProgress."""
    assert await records.begin("alice", "k1", "fp", ttl_s=60) == Begun()
    assert await records.begin("alice", "k1", "fp", ttl_s=60) == InProgress()


async def test_a_completed_request_is_replayed(records: IdempotencyStore) -> None:
    """After complete, the same key and fingerprint get the stored response back."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    await records.complete("alice", "k1", status=201, headers=HEADERS, body=b'{"id":7}')
    assert await records.begin("alice", "k1", "fp", ttl_s=60) == Replay(
        status=201, headers=HEADERS, body=b'{"id":7}'
    )


async def test_a_different_request_with_the_key_is_a_mismatch(records: IdempotencyStore) -> None:
    """Same key, other fingerprint: Mismatch, whether the first is running or completed."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    assert await records.begin("alice", "k1", "other", ttl_s=60) == Mismatch()
    await records.complete("alice", "k1", status=200, headers=(), body=b"")
    assert await records.begin("alice", "k1", "other", ttl_s=60) == Mismatch()


async def test_scopes_keep_keys_apart(records: IdempotencyStore) -> None:
    """Two callers may use the same key without seeing each other's records."""
    assert await records.begin("alice", "k1", "fp", ttl_s=60) == Begun()
    assert await records.begin("bob", "k1", "other", ttl_s=60) == Begun()


async def test_abandon_frees_the_key(records: IdempotencyStore) -> None:
    """An attempt that never reached the backend lets the key be used again."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    await records.abandon("alice", "k1")
    assert await records.begin("alice", "k1", "fp", ttl_s=60) == Begun()


async def test_abandon_leaves_a_completed_record(records: IdempotencyStore) -> None:
    """abandon after complete (a late cleanup) does not erase the response to replay."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    await records.complete("alice", "k1", status=200, headers=(), body=b"ok")
    await records.abandon("alice", "k1")
    assert isinstance(await records.begin("alice", "k1", "fp", ttl_s=60), Replay)


async def test_records_expire_after_their_ttl(records: IdempotencyStore, clock: FakeClock) -> None:
    """Past the ttl, the key is new again, even for a different request."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    await records.complete("alice", "k1", status=200, headers=(), body=b"ok")
    clock.advance(59)
    assert isinstance(await records.begin("alice", "k1", "fp", ttl_s=60), Replay)
    clock.advance(1)
    assert await records.begin("alice", "k1", "other", ttl_s=60) == Begun()


async def test_purge_drops_expired_records(records: IdempotencyStore, clock: FakeClock) -> None:
    """purge_expired deletes records past their ttl and counts them."""
    await records.begin("alice", "short", "fp", ttl_s=10)
    await records.begin("alice", "long", "fp", ttl_s=100)
    clock.advance(10)
    assert await records.purge_expired() == 1
    assert await records.begin("alice", "long", "fp", ttl_s=100) == InProgress()


async def test_a_lapsed_lease_can_be_taken_over(
    records: IdempotencyStore, clock: FakeClock
) -> None:
    """An in-progress record whose owner died is taken over after its lease, same request only."""
    await records.begin("alice", "k1", "fp", ttl_s=3600, lease_s=30)
    clock.advance(29)
    assert await records.begin("alice", "k1", "fp", ttl_s=3600, lease_s=30) == InProgress()
    clock.advance(1)
    assert await records.begin("alice", "k1", "other", ttl_s=3600, lease_s=30) == Mismatch()
    assert await records.begin("alice", "k1", "fp", ttl_s=3600, lease_s=30) == Begun()
    assert await records.begin("alice", "k1", "fp", ttl_s=3600, lease_s=30) == InProgress()


async def test_without_a_lease_in_progress_holds_until_the_ttl(
    records: IdempotencyStore, clock: FakeClock
) -> None:
    """With no lease, a running record is never taken over before its ttl."""
    await records.begin("alice", "k1", "fp", ttl_s=3600)
    clock.advance(3599)
    assert await records.begin("alice", "k1", "fp", ttl_s=3600) == InProgress()


async def test_the_first_complete_wins(records: IdempotencyStore) -> None:
    """A second complete for the same key does not replace the response being replayed."""
    await records.begin("alice", "k1", "fp", ttl_s=60)
    await records.complete("alice", "k1", status=201, headers=(), body=b"first")
    await records.complete("alice", "k1", status=201, headers=(), body=b"second")
    replay = await records.begin("alice", "k1", "fp", ttl_s=60)
    assert isinstance(replay, Replay) and replay.body == b"first"


async def test_fifty_concurrent_begins_make_one_owner(records: IdempotencyStore) -> None:
    """Fifty racing begins on one key yield exactly one Begun; the rest see it in progress."""
    outcomes = await asyncio.gather(
        *(records.begin("alice", "race", "fp", ttl_s=60) for _ in range(50))
    )
    assert outcomes.count(Begun()) == 1
    assert outcomes.count(InProgress()) == 49


async def test_concurrent_takeovers_of_an_expired_record_make_one_owner(
    records: IdempotencyStore, clock: FakeClock
) -> None:
    """Once a record expires, twenty racing begins still elect exactly one owner."""
    await records.begin("alice", "race", "fp", ttl_s=10)
    clock.advance(10)
    outcomes = await asyncio.gather(
        *(records.begin("alice", "race", "fp", ttl_s=10) for _ in range(20))
    )
    assert outcomes.count(Begun()) == 1


async def test_a_non_positive_ttl_is_refused(records: IdempotencyStore) -> None:
    """A record that expires at once would make every retry a new request."""
    with pytest.raises(ValueError, match="ttl_s"):
        await records.begin("alice", "k1", "fp", ttl_s=0)
