"""The audit trail: who changed what an operator can change, when, why, before and after.

Forced breaker states, outbox replays and discards, configuration reloads: each is one row in
the store (so every replica sees the same trail) and one log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import desc, select

from resilience.clock import Clock
from resilience.schema import audit_log
from resilience.store import Store

__all__ = ["AuditEntry", "AuditLog"]

log = structlog.get_logger("veneer.audit")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    reason: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
        }


class AuditLog:
    def __init__(self, store: Store, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self, *, actor: str, action: str, target: str, reason: str, before: Any, after: Any
    ) -> AuditEntry:
        entry = AuditEntry(self._clock.now(), actor, action, target, reason, before, after)
        async with self._store.write() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=entry.at,
                    actor=actor,
                    action=action,
                    target=target,
                    reason=reason,
                    before=before,
                    after=after,
                )
            )
        log.info(
            "audit",
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            before=before,
            after=after,
        )
        return entry

    async def recent(self, *, target: str | None = None, limit: int = 50) -> list[AuditEntry]:
        query = select(audit_log).order_by(desc(audit_log.c.seq)).limit(limit)
        if target is not None:
            query = query.where(audit_log.c.target == target)
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            AuditEntry(
                r["at"], r["actor"], r["action"], r["target"], r["reason"], r["before"], r["after"]
            )
            for r in rows
        ]
