"""The response cache: last good answers for reads, in two tiers, and how fresh each one is.

A bounded in-process **hot tier** (LRU by entry count and by bytes) sits in front of the
**store** (SQLite or PostgreSQL), which survives restarts and is shared by replicas. Either tier
may be absent: ``store=None`` is a memory-only cache; ``hot_entries=0`` sends every read to the
store.

Keys are opaque: the facade builds them (method, path, query, vary headers, caller identity) so no
answer leaks from one client to another. The store indexes a SHA-256 of the key and compares the
full key on read.

Only 2xx answers are kept: errors are never cached. The cache is a degraded-mode aid, so a failing
store does not fail the request: a store error on ``get`` is a miss and on ``put`` is skipped,
both logged.

Freshness (ages in seconds since ``stored_at``; ``swr``/``sie`` count from the end of ``ttl``):

- ``age ≤ ttl`` → ``FRESH``: serve it;
- ``age ≤ ttl + swr`` → ``STALE_REVALIDATE``: serve it and refresh in the background (it also
  stands in when that refresh, or a call made anyway, fails);
- ``age ≤ ttl + sie`` → ``STALE_IF_ERROR``: call the backend; serve it only if the call fails;
- otherwise ``EXPIRED``: never served.

The checks run in that order, so where ``swr > sie`` the window between them is still
``STALE_REVALIDATE``. An entry is kept for ``ttl + max(swr, sie)`` (see ``retention``).
"""

from __future__ import annotations

import enum
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import structlog
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from resilience.cache import CachePolicy
from resilience.clock import Clock
from resilience.schema import cache_entries
from resilience.store import Store

__all__ = ["ABSENT_FOR_S", "CachedResponse", "Freshness", "ResponseCache", "freshness", "retention"]

log = structlog.get_logger("veneer.cache")

_STORE_ERRORS = (SQLAlchemyError, OSError)  # OSError: a driver that cannot reach the server
_ENTRY_OVERHEAD = 256  # bytes charged per hot entry beyond its key, body and headers
#: A kept answer by key, unless expired: built once (building it per read cost a tenth of a miss).
_LOOKUP = select(cache_entries).where(
    cache_entries.c.key_hash == bindparam("key_hash"),
    cache_entries.c.expires_at > bindparam("now"),
)


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    stored_at: datetime  # UTC
    etag: str | None = None

    @property
    def size(self) -> int:
        """Roughly the bytes this entry holds in memory (for the hot tier's byte bound)."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + _ENTRY_OVERHEAD


class Freshness(enum.Enum):
    FRESH = "fresh"
    STALE_REVALIDATE = "stale-while-revalidate"
    STALE_IF_ERROR = "stale-if-error"
    EXPIRED = "expired"

    @property
    def serves_on_error(self) -> bool:
        """May this entry answer when the backend fails?"""
        return self is not Freshness.EXPIRED


def freshness(entry: CachedResponse, policy: CachePolicy, now: datetime) -> tuple[Freshness, float]:
    """Classify an entry under a policy at ``now``; also returns its age in seconds (≥ 0)."""
    age = max(0.0, (now - entry.stored_at).total_seconds())
    if age <= policy.ttl:
        return Freshness.FRESH, age
    if age <= policy.ttl + policy.stale_while_revalidate:
        return Freshness.STALE_REVALIDATE, age
    if age <= policy.ttl + policy.stale_if_error:
        return Freshness.STALE_IF_ERROR, age
    return Freshness.EXPIRED, age


def retention(policy: CachePolicy) -> float:
    """Seconds an entry is worth keeping: past this it can never be served."""
    return policy.ttl + max(policy.stale_while_revalidate, policy.stale_if_error)


def _upsert(store: Store) -> Executable:
    """Insert an entry, or replace the one under the same key hash (values bound at execution)."""
    columns = [column.name for column in cache_entries.columns]
    statement = store.insert(cache_entries).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=[cache_entries.c.key_hash],
        set_={name: statement.excluded[name] for name in columns if name != "key_hash"},
    )


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class _Held(NamedTuple):
    entry: CachedResponse
    #: when the entry expires and when it was stored, as POSIX seconds
    expires_s: float
    stored_s: float


class _HotTier:
    """An LRU bounded by entry count and total bytes; entries carry their own expiry."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, _Held] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: datetime) -> CachedResponse | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found.expires_s <= now.timestamp():
            self.pop(key)
            return None
        self._entries.move_to_end(key)
        return found.entry

    def fresh(self, key: str, now_s: float, ttl: float) -> tuple[CachedResponse, float] | None:
        """The entry for ``key`` and its age if it is fresh under ``ttl`` at ``now_s`` (POSIX
        seconds): what ``get`` then ``freshness`` would say is FRESH, in float arithmetic."""
        found = self._entries.get(key)
        if found is None or found.expires_s <= now_s:
            return None
        age = now_s - found.stored_s
        if age < 0.0:  # noqa: PLR1730 - max() is a builtin call: this runs on every hit
            age = 0.0
        if age > ttl:
            return None
        self._entries.move_to_end(key)
        return found.entry, age

    def put(self, key: str, entry: CachedResponse, expires_at: datetime) -> None:
        self.pop(key)
        if self.max_entries <= 0 or entry.size > self.max_bytes:
            return  # too big to hold without evicting everything else
        self._entries[key] = _Held(entry, expires_at.timestamp(), entry.stored_at.timestamp())
        self.bytes += entry.size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.entry.size

    def pop(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found.entry.size

    def purge(self, now: datetime) -> int:
        now_s = now.timestamp()
        expired = [key for key, held in self._entries.items() if held.expires_s <= now_s]
        for key in expired:
            self.pop(key)
        return len(expired)


#: how long a store miss is believed without asking the store again
ABSENT_FOR_S = 1.0
_ABSENT_KEYS = 10_000


class ResponseCache:
    def __init__(
        self,
        store: Store | None,
        *,
        clock: Clock,
        hot_entries: int = 10_000,
        hot_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._store = store
        self._clock = clock
        self._hot = _HotTier(hot_entries, hot_bytes)
        #: keys the store lately did not have, until when (monotonic): a miss repeated within
        #: ABSENT_FOR_S (a cold key under load, or every request while a backend is down and
        #: nothing was ever cached) costs a dict lookup instead of a store round trip. Another
        #: process's write becomes visible here at most that much later.
        self._absent: dict[str, float] = {}
        #: built once: building the upsert (and its ``excluded`` columns) cost more per write
        #: than executing it
        self._upsert = _upsert(store) if store is not None else None

    @property
    def hot_size(self) -> tuple[int, int]:
        """Entries and bytes in the hot tier (for metrics)."""
        return len(self._hot), self._hot.bytes

    def fresh(self, key: str, ttl: float) -> tuple[CachedResponse, float] | None:
        """The answer for ``key`` and its age, if this process holds it in memory and it is
        fresh under ``ttl``: what :meth:`get_hot` and :meth:`freshness` say together, for a
        path that answers only fresh hits (one clock read, no datetime arithmetic)."""
        return self._hot.fresh(key, self._clock.time(), ttl)

    async def get(self, key: str) -> CachedResponse | None:
        """The kept answer for ``key``, fresh or stale, or None; a store hit fills the hot tier."""
        now = self._clock.now()
        entry = self._hot.get(key, now)
        if entry is not None or self._store is None:
            return entry
        until = self._absent.get(key)
        if until is not None and until > self._clock.monotonic():
            return None
        try:
            row = await self._store.read_one(_LOOKUP, {"key_hash": _hash(key), "now": now})
        except _STORE_ERRORS as exc:
            log.warning("cache store read failed; treating as a miss", error=repr(exc))
            return None
        if row is None or row.key != key:
            if len(self._absent) >= _ABSENT_KEYS:
                self._absent.clear()
            self._absent[key] = self._clock.monotonic() + ABSENT_FOR_S
            return None
        entry = CachedResponse(
            status=row.status,
            body=row.body,
            headers=tuple((name, value) for name, value in row.headers),
            stored_at=row.stored_at,
            etag=row.etag,
        )
        self._hot.put(key, entry, row.expires_at)
        return entry

    async def put(self, key: str, response: CachedResponse, *, keep_for_s: float) -> None:
        """Keep a good answer for ``keep_for_s`` seconds (``retention(policy)``); 2xx only."""
        expires_at = self.put_hot(key, response, keep_for_s=keep_for_s)
        if expires_at is not None:
            await self.persist(key, response, expires_at)

    def put_hot(self, key: str, response: CachedResponse, *, keep_for_s: float) -> datetime | None:
        """The in-process half of :meth:`put`, done at once; returns when it expires (None: not kept).

        A request path can call this, then :meth:`persist` in the background: the answer is
        visible to this process immediately, and the SQL write (which may wait for a lock) is
        off the request's clock.
        """
        if not 200 <= response.status < 300:
            raise ValueError(
                f"refusing to cache a {response.status} answer: errors are never cached"
            )
        if keep_for_s <= 0:
            return None
        expires_at = self._clock.now() + timedelta(seconds=keep_for_s)
        self._hot.put(key, response, expires_at)
        self._absent.pop(key, None)
        return expires_at

    async def persist(self, key: str, response: CachedResponse, expires_at: datetime) -> None:
        """The store half of :meth:`put`: share the answer with other processes and restarts."""
        if self._store is None or self._upsert is None:
            return
        values = {
            "key_hash": _hash(key),
            "key": key,
            "status": response.status,
            "headers": [list(pair) for pair in response.headers],
            "body": response.body,
            "etag": response.etag,
            "stored_at": response.stored_at,
            "expires_at": expires_at,
        }
        try:
            await self._store.write_one(self._upsert, values)
        except _STORE_ERRORS as exc:
            log.warning("cache store write failed; kept in memory only", error=repr(exc))

    async def invalidate(self, key: str) -> None:
        """Forget ``key`` in both tiers (e.g. after a write to the resource it shows)."""
        self._hot.pop(key)
        if self._store is not None:
            await self._store.write_one(
                delete(cache_entries).where(cache_entries.c.key_hash == _hash(key))
            )

    def freshness(self, entry: CachedResponse, policy: CachePolicy) -> tuple[Freshness, float]:
        """``freshness(entry, policy, now)`` at this cache's clock."""
        return freshness(entry, policy, self._clock.now())

    async def purge_expired(self) -> int:
        """Drop entries past their keep time; returns how many the store (or, without one, the
        hot tier) dropped."""
        now = self._clock.now()
        in_memory = self._hot.purge(now)
        if self._store is None:
            return in_memory
        return await self._store.write_one(
            delete(cache_entries).where(cache_entries.c.expires_at <= now)
        )
