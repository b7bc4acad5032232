"""The write outbox: writes a backend cannot take now, kept durably until they are delivered.

Life of an entry::

    queued ──claim──▶ delivering ──mark_done──▶ done
      ▲  ▲               │  │
      │  └──release──────┘  └──mark_failed──▶ queued (retry later) or dead (attempts used up,
      │    (not attempted:                      or a permanent failure)
      │     breaker open)                        │
      └────────────replay────────────────────────┘      queued/dead ──discard──▶ discarded

**Acknowledged means durable**: ``enqueue`` returns after the transaction commits (on SQLite with
``synchronous=FULL``), so the 202 the facade sends is never for a write a crash can lose.

**Order per resource**: an entry is claimable only when no older entry for the same ``resource``
is queued, delivering or dead. A dead entry blocks its resource until an operator replays or
discards it: a later write must not overtake one that never landed (it might be an update of the
record the dead one creates). Entries without a resource are independent. So one claim never
returns two entries of one resource, and workers may deliver a claimed batch in any order.

**Leases**: a claimed entry is leased for ``lease_s``; if the worker dies, the lease lapses and the
entry is claimable again. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so replicas' workers
do not wait on one another; on SQLite the write transaction (``BEGIN IMMEDIATE``) serialises them.

**Exactly once after recovery**: delivery is at least once. If the process dies after the backend
applied a write but before ``mark_done`` commits, the lease lapses and the entry is delivered
again. The entry's ``idempotency_key`` travels to the backend with every attempt, so a backend (or
an adapter) that deduplicates by it applies the write once. A lease shorter than a delivery takes
opens the same window while the process lives: size ``lease_s`` above the route's deadline.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.engine import Connection, Row

from resilience.clock import Clock
from resilience.outbox_entry import (
    STATUSES,
    EntryNotFound,
    InvalidTransition,
    OutboxEntry,
    Status,
)
from resilience.schema import outbox_entries
from resilience.store import Store

__all__ = ["Outbox"]

_BLOCKING = ("queued", "delivering", "dead")  # an older entry in these holds its resource back
_MAX_ERROR_CHARS = 2000


_FIELDS = tuple(f.name for f in fields(OutboxEntry))


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(**{name: getattr(row, name) for name in _FIELDS})


def _new_id(now: datetime) -> str:
    """32 hex digits: milliseconds since the epoch, then 80 random bits (sorts by creation)."""
    return f"{int(now.timestamp() * 1000):012x}{secrets.token_hex(10)}"


def _jsonable(value: Any) -> Any:
    """A backend's result as JSON (anything orjson cannot encode becomes its ``str``)."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


class Outbox:
    def __init__(self, store: Store, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def enqueue(
        self,
        *,
        backend: str,
        operation: str,
        params: Mapping[str, Any],
        resource: str | None = None,
        idempotency_key: str | None = None,
        max_attempts: int = 10,
        request_id: str | None = None,
    ) -> OutboxEntry:
        """Store a write for delivery; returns only once it is committed."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        try:
            orjson.dumps(params)
        except TypeError as exc:
            raise ValueError(f"outbox params must be JSON-serialisable: {exc}") from exc
        now = self._clock.now()
        values: dict[str, Any] = {
            "id": _new_id(now),
            "backend": backend,
            "operation": operation,
            "params": dict(params),
            "resource": resource,
            "idempotency_key": idempotency_key,
            "request_id": request_id,
            "status": "queued",
            "attempts": 0,
            "max_attempts": max_attempts,
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now,
        }
        statement = outbox_entries.insert().values(**values).returning(outbox_entries)
        row = await self._store.transact(lambda conn: conn.execute(statement).one())
        return _entry(row)

    async def get(self, id: str) -> OutboxEntry | None:
        row = await self._store.read_one(select(outbox_entries).where(outbox_entries.c.id == id))
        return None if row is None else _entry(row)

    async def due_backends(self) -> set[str]:
        """Backends with an entry due now (so a worker can ask which of them may be called)."""
        o = outbox_entries
        async with self._store.read() as conn:
            rows = await conn.execute(
                select(o.c.backend).where(self._due(self._clock.now())).distinct()
            )
        return {backend for (backend,) in rows}

    async def claim(
        self, *, backends: Iterable[str] | None = None, limit: int = 10, lease_s: float = 30.0
    ) -> builtins.list[OutboxEntry]:
        """Lease up to ``limit`` due entries (oldest first), at most one per resource."""
        o = outbox_entries
        older = outbox_entries.alias("older")
        now = self._clock.now()
        blocked = exists().where(
            older.c.resource == o.c.resource, older.c.seq < o.c.seq, older.c.status.in_(_BLOCKING)
        )
        query = (
            select(o.c.seq)
            .where(self._due(now), or_(o.c.resource.is_(None), ~blocked))
            .order_by(o.c.seq)
            .limit(limit)
        )
        if backends is not None:
            query = query.where(o.c.backend.in_(builtins.list(backends)))
        if self._store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=o)
        async with self._store.write() as conn:
            seqs = (await conn.execute(query)).scalars().all()
            if not seqs:
                return []
            rows = await conn.execute(
                update(o)
                .where(o.c.seq.in_(seqs))
                .values(
                    status="delivering",
                    lease_until=now + timedelta(seconds=lease_s),
                    updated_at=now,
                )
                .returning(o)
            )
            claimed = sorted(rows, key=lambda row: row.seq)
        return [_entry(row) for row in claimed]

    async def mark_done(self, id: str, result: Any) -> OutboxEntry:
        """The backend took the write. Also accepted from ``queued`` (a lease that lapsed while
        the delivery was, in the end, successful: marking it done prevents a second one)."""
        return await self._transition(
            id,
            ("delivering", "queued"),
            status="done",
            result=_jsonable(result),
            lease_until=None,
            last_error=None,
        )

    async def mark_failed(self, id: str, *, error: str, retry_in_s: float | None) -> OutboxEntry:
        """Count a failed attempt: retry in ``retry_in_s``, or dead if that was the last attempt
        or the failure is permanent (``retry_in_s=None``). A no-op unless it is delivering."""
        o = outbox_entries
        now = self._clock.now()
        attempts = o.c.attempts + 1
        status: Any = (
            "dead"
            if retry_in_s is None
            else case((attempts >= o.c.max_attempts, "dead"), else_="queued")
        )
        return await self._transition(
            id,
            ("delivering",),
            status=status,
            attempts=attempts,
            last_error=error[:_MAX_ERROR_CHARS],
            next_attempt_at=now + timedelta(seconds=retry_in_s or 0.0),
            lease_until=None,
        )

    async def release(self, id: str, *, retry_in_s: float = 0.0) -> OutboxEntry:
        """Give a claimed entry back without counting an attempt (it was never tried: the
        breaker was open, the bulkhead full, the worker stopping)."""
        return await self._transition(
            id,
            ("delivering",),
            status="queued",
            next_attempt_at=self._clock.now() + timedelta(seconds=retry_in_s),
            lease_until=None,
        )

    async def replay(self, id: str) -> OutboxEntry:
        """An operator sends a dead entry again, with a fresh set of attempts."""
        return await self._transition(
            id,
            ("dead",),
            strict=True,
            status="queued",
            attempts=0,
            next_attempt_at=self._clock.now(),
        )

    async def discard(self, id: str) -> OutboxEntry:
        """An operator gives up on a dead (or still queued) entry; its resource moves on."""
        return await self._transition(id, ("dead", "queued"), strict=True, status="discarded")

    async def counts(self) -> dict[str, int]:
        """Entries per status (every status present, zeros included)."""
        o = outbox_entries
        async with self._store.read() as conn:
            rows = await conn.execute(select(o.c.status, func.count()).group_by(o.c.status))
            found = {status: int(count) for status, count in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    async def purge_finished(self, *, older_than_s: float) -> int:
        """Delete done and discarded entries not touched for ``older_than_s`` seconds."""
        o = outbox_entries
        cutoff = self._clock.now() - timedelta(seconds=older_than_s)
        async with self._store.write() as conn:
            result = await conn.execute(
                o.delete().where(o.c.status.in_(("done", "discarded")), o.c.updated_at <= cutoff)
            )
        return int(result.rowcount)

    async def list(
        self, *, status: Status | None = None, backend: str | None = None, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        """Entries in delivery order, optionally of one status and backend."""
        o = outbox_entries
        query = select(o).order_by(o.c.seq).limit(limit)
        if status is not None:
            query = query.where(o.c.status == status)
        if backend is not None:
            query = query.where(o.c.backend == backend)
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_entry(row) for row in rows]

    @staticmethod
    def _due(now: datetime) -> Any:
        o = outbox_entries
        return or_(
            and_(o.c.status == "queued", o.c.next_attempt_at <= now),
            and_(o.c.status == "delivering", o.c.lease_until <= now),
        )

    async def _transition(
        self, id: str, allowed: tuple[Status, ...], *, strict: bool = False, **values: Any
    ) -> OutboxEntry:
        """Apply ``values`` if the entry is in an ``allowed`` status, atomically; otherwise
        return it unchanged, or with ``strict`` raise ``InvalidTransition``."""
        o = outbox_entries
        change = (
            update(o)
            .where(o.c.id == id, o.c.status.in_(allowed))
            .values(updated_at=self._clock.now(), **values)
            .returning(o)
        )

        def apply(conn: Connection) -> tuple[Row[Any] | None, bool]:
            """(the entry, whether this changed it); (None, False) when there is none."""
            changed = conn.execute(change).one_or_none()
            if changed is not None:
                return changed, True
            return conn.execute(select(o).where(o.c.id == id)).one_or_none(), False

        row, changed = await self._store.transact(apply)
        if row is None:
            raise EntryNotFound(f"no outbox entry {id!r}", name=id)
        if not changed and strict:
            raise InvalidTransition(
                f"outbox entry {id} is {row.status}; expected {' or '.join(allowed)}", name=id
            )
        return _entry(row)
