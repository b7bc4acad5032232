"""Idempotency records: a retried write with the same ``Idempotency-Key`` is applied once.

The facade calls ``begin`` before the backend and learns one of four things:

- ``Begun`` — first use of the key: this request owns it; call the backend, then ``complete``
  (or ``abandon`` if it failed before reaching the backend, so the client may try again);
- ``Replay`` — done before with the same fingerprint: answer the stored response again;
- ``Mismatch`` — the key was used with a different request (→ 422); checked before the others,
  since it is a client bug whatever state the first request is in;
- ``InProgress`` — the first request with this key is still running (→ 409).

``begin`` is atomic across tasks, processes and replicas: an ``INSERT ... ON CONFLICT DO NOTHING``
on the record's primary key decides the owner, and taking over an expired record is a
conditional ``UPDATE`` that only one transaction can win.

A record lives ``ttl_s`` from its first use. An in-progress record whose owner died (a crashed
gateway) would block its key until then; with ``lease_s`` (pass the route's deadline plus a
margin) another request with the same fingerprint may take it over once the lease lapses. Should
the first owner turn out to be alive, both carried the same key to the backend, so either answer
is a correct replay: the first ``complete`` wins (it only fills a record still in progress).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, or_, select, update

from resilience.clock import Clock
from resilience.schema import idempotency_records
from resilience.store import Store

__all__ = ["Begun", "IdempotencyStore", "InProgress", "Mismatch", "Outcome", "Replay"]

_IN_PROGRESS = "in_progress"
_COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Begun:
    """This request owns the key."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The key's request completed before with the same fingerprint: its response, again."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used before for a different request."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The key's first request has not finished."""


Outcome = Begun | Replay | Mismatch | InProgress


def _hash(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, store: Store, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def begin(
        self, scope: str, key: str, fingerprint: str, *, ttl_s: float, lease_s: float | None = None
    ) -> Outcome:
        """Claim ``key`` in ``scope`` (e.g. caller and route) for a request with ``fingerprint``."""
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        table = idempotency_records
        key_hash = _hash(scope, key)
        now = self._clock.now()
        fresh = {
            "fingerprint": fingerprint,
            "state": _IN_PROGRESS,
            "status": None,
            "headers": None,
            "body": None,
            "created_at": now,
            "locked_until": None if lease_s is None else now + timedelta(seconds=lease_s),
            "expires_at": now + timedelta(seconds=ttl_s),
        }
        claim = (
            self._store.insert(table)
            .values(key_hash=key_hash, scope=scope, key=key, **fresh)
            .on_conflict_do_nothing(index_elements=[table.c.key_hash])
            .returning(table.c.key_hash)
        )
        takeover = (
            update(table)
            .where(
                table.c.key_hash == key_hash,
                or_(
                    table.c.expires_at <= now,
                    and_(
                        table.c.state == _IN_PROGRESS,
                        table.c.locked_until <= now,
                        table.c.fingerprint == fingerprint,
                    ),
                ),
            )
            .values(**fresh)
            .returning(table.c.key_hash)
        )
        current = select(table).where(table.c.key_hash == key_hash)

        def claim_or_read(conn: Connection) -> Row[Any] | None:
            """None when this request now holds the key; otherwise the record that holds it."""
            if conn.execute(claim).first() is not None or conn.execute(takeover).first():
                return None
            return conn.execute(current).one()

        row = await self._store.transact(claim_or_read)
        if row is None:
            return Begun()
        if row.fingerprint != fingerprint:
            return Mismatch()
        if row.state == _IN_PROGRESS:
            return InProgress()
        return Replay(
            status=row.status,
            headers=tuple((name, value) for name, value in row.headers),
            body=row.body,
        )

    async def complete(
        self,
        scope: str,
        key: str,
        *,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Keep the response to replay for the rest of the record's ttl."""
        table = idempotency_records
        await self._store.write_one(
            update(table)
            .where(table.c.key_hash == _hash(scope, key), table.c.state == _IN_PROGRESS)
            .values(
                state=_COMPLETED,
                status=status,
                headers=[list(pair) for pair in headers],
                body=body,
                locked_until=None,
            )
        )

    async def abandon(self, scope: str, key: str) -> None:
        """The request failed before reaching the backend: free the key for another try."""
        table = idempotency_records
        await self._store.write_one(
            delete(table).where(
                table.c.key_hash == _hash(scope, key), table.c.state == _IN_PROGRESS
            )
        )

    async def purge_expired(self) -> int:
        table = idempotency_records
        return await self._store.write_one(
            delete(table).where(table.c.expires_at <= self._clock.now())
        )
