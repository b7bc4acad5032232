"""Operators' forcings shared through the store, so every process of a gateway applies them.

Breakers count failures per process: each worker or replica protects itself from what it sees.
An operator's forcing is different: "hold the ERP's breaker open, it is in maintenance" means
every process, including one that starts later. Under ``serve --workers N`` or behind a load
balancer, the ``POST /ops/breakers/{name}`` that sets it reaches one process only.

So a forcing is applied where it was asked, at once, and written to the store as one row per
breaker with a fresh ``revision``. Every process reads the table once a second (:meth:`run`) and
applies each revision it has not applied yet: the same state, for the time left of its TTL, with
the same reason and actor. A hand-back (``auto``) is a row too, so that it reaches everyone. The
store is the one the gateway already shares: the SQLite file between the workers of one
machine, PostgreSQL between replicas. Architecture decision 40.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import structlog
from sqlalchemy import select

from resilience.breaker_forcing import ForceTarget, check_force
from resilience.breaker_registry import BreakerRegistry
from resilience.clock import Clock
from resilience.schema import breaker_forcings
from resilience.store import Store

__all__ = ["POLL_S", "SharedForcings"]

log = structlog.get_logger("veneer.breakers")
#: How often (s) a process reads the forcings others wrote: the longest they take to reach it.
POLL_S = 1.0


class SharedForcings:
    """The forcings table of one store, as one process reads and writes it."""

    def __init__(self, store: Store, breakers: BreakerRegistry, clock: Clock) -> None:
        self._store = store
        self._breakers = breakers
        self._clock = clock
        self._applied: dict[str, str] = {}  # breaker name → the revision applied here
        self._all = select(breaker_forcings)

    async def publish(
        self, name: str, target: ForceTarget, *, ttl_s: float | None, reason: str, actor: str
    ) -> None:
        """Record a forcing already applied here, for every other process to apply."""
        check_force(target, ttl_s)
        now = self._clock.now()
        revision = secrets.token_hex(16)
        row = {
            "revision": revision,
            "state": target,
            "until_at": None if ttl_s is None else now + timedelta(seconds=ttl_s),
            "reason": reason,
            "actor": actor,
            "updated_at": now,
        }
        upsert = (
            self._store.insert(breaker_forcings)
            .values(name=name, **row)
            .on_conflict_do_update(index_elements=[breaker_forcings.c.name], set_=row)
        )
        self._applied[name] = revision
        await self._store.write_one(upsert)

    async def sync(self) -> list[str]:
        """Apply every forcing not applied here yet; the names of the breakers it changed.

        A forcing whose TTL has run out is not applied (its breaker is automatic again
        everywhere), and one for a breaker this process has not made yet (a per-operation
        breaker never called here) waits until it exists.
        """
        changed = []
        now = self._clock.now()
        for row in await self._store.read_all(self._all):
            if self._applied.get(row.name) == row.revision:
                continue
            breaker = self._breakers.find(row.name)
            if breaker is None:
                continue
            self._applied[row.name] = row.revision
            ttl_s = None if row.until_at is None else (row.until_at - now).total_seconds()
            if ttl_s is not None and ttl_s <= 0:
                continue
            breaker.force(row.state, ttl_s=ttl_s, reason=row.reason, actor=row.actor)
            changed.append(row.name)
        return changed

    async def run(self, poll_s: float = POLL_S) -> None:
        """:meth:`sync` every ``poll_s`` until cancelled; a failing read is logged, not fatal.

        Paced by the event loop's own clock: the injected one only dates the forcings.
        """
        while True:
            try:
                changed = await self.sync()
            except Exception:
                log.exception("reading the shared breaker forcings failed")
            else:
                if changed:
                    log.info("breaker forcings applied from the store", breakers=changed)
            await asyncio.sleep(poll_s)
