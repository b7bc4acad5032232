"""The response cache: freshness windows, the hot tier's bounds, the store tier, and no errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from resilience.cache import CachePolicy
from resilience.clock import FakeClock
from resilience.response_cache import (
    ABSENT_FOR_S,
    CachedResponse,
    Freshness,
    ResponseCache,
    freshness,
    retention,
)
from resilience.schema import cache_entries
from resilience.store import Store


def answer(clock: FakeClock, body: bytes = b'{"ok":true}', status: int = 200) -> CachedResponse:
    return CachedResponse(
        status=status,
        body=body,
        headers=(("content-type", "application/json"), ("x-backend", "erp")),
        stored_at=clock.now(),
        etag='"abc"',
    )


POLICY = CachePolicy(ttl=10, stale_while_revalidate=5, stale_if_error=60)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0, Freshness.FRESH),
        (10, Freshness.FRESH),
        (10.001, Freshness.STALE_REVALIDATE),
        (15, Freshness.STALE_REVALIDATE),
        (15.001, Freshness.STALE_IF_ERROR),
        (70, Freshness.STALE_IF_ERROR),
        (70.001, Freshness.EXPIRED),
    ],
)
def test_freshness_boundaries(clock: FakeClock, age: float, expected: Freshness) -> None:
    """Each window includes its end: ttl, then ttl+swr, then ttl+sie, then expired."""
    entry = answer(clock)
    state, measured = freshness(entry, POLICY, clock.now() + timedelta(seconds=age))
    assert state is expected
    assert measured == pytest.approx(age)


def test_a_longer_revalidate_window_wins_over_a_shorter_error_window(clock: FakeClock) -> None:
    """With swr > sie, an age between them is still served while revalidating."""
    policy = CachePolicy(ttl=10, stale_while_revalidate=60, stale_if_error=5)
    entry = answer(clock)
    assert freshness(entry, policy, clock.now() + timedelta(seconds=30))[0] is (
        Freshness.STALE_REVALIDATE
    )
    assert freshness(entry, policy, clock.now() + timedelta(seconds=71))[0] is Freshness.EXPIRED


def test_an_entry_from_the_future_is_fresh_with_age_zero(clock: FakeClock) -> None:
    """A replica's clock running ahead must not produce a negative Age."""
    entry = answer(clock)
    assert freshness(entry, POLICY, clock.now() - timedelta(seconds=3)) == (Freshness.FRESH, 0.0)


def test_retention_and_serving_on_error() -> None:
    """An entry is kept for ttl plus the longer stale window; only EXPIRED never serves."""
    assert retention(POLICY) == 70
    assert retention(CachePolicy(ttl=10, stale_while_revalidate=30, stale_if_error=5)) == 40
    assert [f.serves_on_error for f in Freshness] == [True, True, True, False]


async def test_the_cache_method_uses_its_clock(clock: FakeClock) -> None:
    """ResponseCache.freshness reads the injected clock."""
    cache = ResponseCache(None, clock=clock)
    entry = answer(clock)
    clock.advance(12)
    assert cache.freshness(entry, POLICY) == (Freshness.STALE_REVALIDATE, 12.0)


@pytest.mark.parametrize("status", [199, 304, 404, 500, 503])
async def test_non_2xx_answers_are_refused(clock: FakeClock, status: int) -> None:
    """Errors (and anything not 2xx) are never cached."""
    cache = ResponseCache(None, clock=clock)
    with pytest.raises(ValueError, match="never cached"):
        await cache.put("k", answer(clock, status=status), keep_for_s=60)
    assert await cache.get("k") is None


async def test_hot_tier_evicts_least_recently_used_by_count(clock: FakeClock) -> None:
    """With room for two, reading 'a' makes 'b' the one evicted by 'c'."""
    cache = ResponseCache(None, clock=clock, hot_entries=2)
    await cache.put("a", answer(clock, b"A"), keep_for_s=60)
    await cache.put("b", answer(clock, b"B"), keep_for_s=60)
    assert await cache.get("a") is not None
    await cache.put("c", answer(clock, b"C"), keep_for_s=60)
    assert await cache.get("b") is None
    assert (await cache.get("a")).body == b"A"  # type: ignore[union-attr]
    assert (await cache.get("c")).body == b"C"  # type: ignore[union-attr]


async def test_hot_tier_evicts_by_bytes(clock: FakeClock) -> None:
    """Bounded by bytes, a third large body pushes out the oldest; oversize bodies are skipped."""
    one = answer(clock, b"x" * 1000)
    cache = ResponseCache(None, clock=clock, hot_bytes=2 * one.size + 10)
    for key in ("a", "b", "c"):
        await cache.put(key, answer(clock, b"x" * 1000), keep_for_s=60)
    assert await cache.get("a") is None
    assert await cache.get("b") is not None and await cache.get("c") is not None
    assert cache.hot_size == (2, 2 * one.size)
    await cache.put("huge", answer(clock, b"y" * 10_000), keep_for_s=60)
    assert await cache.get("huge") is None
    assert cache.hot_size == (2, 2 * one.size)


async def test_a_replaced_key_is_counted_once(clock: FakeClock) -> None:
    """Putting the same key twice keeps one entry and its current size."""
    cache = ResponseCache(None, clock=clock)
    await cache.put("a", answer(clock, b"x" * 100), keep_for_s=60)
    await cache.put("a", answer(clock, b"x" * 10), keep_for_s=60)
    assert cache.hot_size == (1, answer(clock, b"x" * 10).size)


async def test_hot_entries_expire_after_their_keep_time(clock: FakeClock) -> None:
    """A memory-only entry is gone once keep_for has passed, and purge drops it."""
    cache = ResponseCache(None, clock=clock)
    await cache.put("a", answer(clock), keep_for_s=30)
    await cache.put("b", answer(clock), keep_for_s=90)
    clock.advance(30)
    assert await cache.get("a") is None
    assert await cache.purge_expired() == 0  # 'a' was already dropped by the read
    clock.advance(60)
    assert await cache.purge_expired() == 1
    assert cache.hot_size[0] == 0


async def test_store_keeps_entries_across_instances(store: Store, clock: FakeClock) -> None:
    """An entry put by one cache is read by another on the same store, intact and tz-aware."""
    stored = answer(clock)
    await ResponseCache(store, clock=clock).put("GET /a", stored, keep_for_s=60)
    clock.advance(5)
    found = await ResponseCache(store, clock=clock, hot_entries=0).get("GET /a")
    assert found == stored
    assert found is not None and found.stored_at.utcoffset() == timedelta(0)


async def test_a_store_hit_fills_the_hot_tier(store: Store, clock: FakeClock) -> None:
    """After one store read, the entry is served from memory even if the row disappears."""
    await ResponseCache(store, clock=clock).put("k", answer(clock), keep_for_s=60)
    cache = ResponseCache(store, clock=clock)
    assert cache.hot_size[0] == 0
    assert await cache.get("k") is not None
    assert cache.hot_size[0] == 1
    async with store.write() as conn:
        await conn.execute(delete(cache_entries))
    assert await cache.get("k") is not None


async def test_expired_store_entries_are_not_served(store: Store, clock: FakeClock) -> None:
    """A row past its keep time is a miss, even before purge removes it."""
    await ResponseCache(store, clock=clock).put("k", answer(clock), keep_for_s=60)
    clock.advance(60)
    assert await ResponseCache(store, clock=clock).get("k") is None


async def test_put_replaces_the_stored_entry(store: Store, clock: FakeClock) -> None:
    """A newer answer for the same key overwrites the row (upsert)."""
    cache = ResponseCache(store, clock=clock, hot_entries=0)
    await cache.put("k", answer(clock, b"old"), keep_for_s=60)
    clock.advance(1)
    await cache.put("k", answer(clock, b"new"), keep_for_s=60)
    found = await cache.get("k")
    assert found is not None and found.body == b"new" and found.stored_at == clock.now()


async def test_long_keys_are_stored_and_kept_apart(store: Store, clock: FakeClock) -> None:
    """Keys of any length are hashed for the index and still distinguished exactly."""
    cache = ResponseCache(store, clock=clock, hot_entries=0)
    long_a, long_b = "GET /x?" + "a" * 10_000, "GET /x?" + "a" * 9_999 + "b"
    await cache.put(long_a, answer(clock, b"A"), keep_for_s=60)
    await cache.put(long_b, answer(clock, b"B"), keep_for_s=60)
    assert (await cache.get(long_a)).body == b"A"  # type: ignore[union-attr]
    assert (await cache.get(long_b)).body == b"B"  # type: ignore[union-attr]


async def test_purge_drops_only_expired_rows(store: Store, clock: FakeClock) -> None:
    """purge_expired deletes rows past their keep time and reports how many."""
    cache = ResponseCache(store, clock=clock)
    await cache.put("short", answer(clock), keep_for_s=10)
    await cache.put("long", answer(clock), keep_for_s=100)
    clock.advance(10)
    assert await cache.purge_expired() == 1
    async with store.read() as conn:
        keys = (await conn.execute(select(cache_entries.c.key))).scalars().all()
    assert keys == ["long"]


async def test_invalidate_forgets_both_tiers(store: Store, clock: FakeClock) -> None:
    """After invalidate, neither this cache nor a fresh one finds the key."""
    cache = ResponseCache(store, clock=clock)
    await cache.put("k", answer(clock), keep_for_s=60)
    await cache.invalidate("k")
    assert await cache.get("k") is None
    assert await ResponseCache(store, clock=clock).get("k") is None


async def test_a_failing_store_degrades_to_a_miss(store: Store, clock: FakeClock) -> None:
    """With the cache table gone, get is a miss and put keeps the answer in memory only."""
    async with store.write() as conn:
        await conn.run_sync(cache_entries.drop)
    cold = ResponseCache(store, clock=clock)
    assert await cold.get("k") is None
    await cold.put("k", answer(clock), keep_for_s=60)
    assert await cold.get("k") is not None


async def test_a_store_miss_is_believed_for_a_second(store: Store, clock: FakeClock) -> None:
    """Within ABSENT_FOR_S of a miss the store is not asked again; afterwards it is."""
    reader = ResponseCache(store, clock=clock)
    assert await reader.get("k") is None
    await ResponseCache(store, clock=clock).put("k", answer(clock), keep_for_s=60)  # elsewhere

    assert await reader.get("k") is None
    clock.advance(ABSENT_FOR_S + 0.001)
    assert await reader.get("k") is not None


async def test_a_put_here_ends_the_believed_miss(store: Store, clock: FakeClock) -> None:
    """This process's own answer is visible at once, whatever the store said a moment ago."""
    cache = ResponseCache(store, clock=clock)
    assert await cache.get("k") is None
    await cache.put("k", answer(clock), keep_for_s=60)
    assert await cache.get("k") is not None


@pytest.mark.parametrize("age", [0, 0.5, 10, 10.001, 15, 69.999, 70, 71])
@pytest.mark.parametrize("keep_for", [5, 10, 70])
async def test_fresh_says_what_get_and_freshness_say_together(
    clock: FakeClock, age: float, keep_for: float
) -> None:
    """The hit lane's one-read check finds an entry exactly when the in-memory lookup finds it
    unexpired and freshness calls it FRESH, with the same age, across the ttl's end and the
    keep time's (which may be shorter than the ttl for an entry kept under an older policy)."""
    cache = ResponseCache(None, clock=clock)
    entry = answer(clock)
    cache.put_hot("k", entry, keep_for_s=keep_for)
    clock.advance(age)
    found = cache.fresh("k", POLICY.ttl)
    kept = await cache.get("k")
    state = cache.freshness(kept, POLICY) if kept is not None else None
    if kept is None or state is None or state[0] is not Freshness.FRESH:
        assert found is None
    else:
        assert found is not None
        assert found[0] is entry
        assert found[1] == pytest.approx(state[1])
