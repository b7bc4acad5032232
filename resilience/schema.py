"""The durable state's tables: the response cache, idempotency records and the write outbox.

One ``MetaData`` for both stores (SQLite and PostgreSQL run the same code). Every table is
prefixed ``veneer_`` so the gateway can share a database with other things; ``veneer_schema``
holds one row with the schema version, checked at open.

Two column types smooth over the differences between the stores:

- ``UtcDateTime`` takes only timezone-aware datetimes, stores UTC, and hands back UTC-aware
  datetimes on both (SQLite returns naive values; PostgreSQL ``timestamptz`` returns aware ones).
  Stored on SQLite as fixed-width ISO text, so ``<=`` comparisons order correctly.
- ``JsonText`` stores JSON as text through orjson, identically on both stores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = ["SCHEMA_VERSION", "JsonText", "UtcDateTime", "metadata"]

SCHEMA_VERSION = 1


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is UTC on the way in and timezone-aware UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps UTC-aware times only")
        value = value.astimezone(UTC)
        # SQLite's text format ignores the offset; stripping it keeps the stored text uniform.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JsonText(TypeDecorator[Any]):
    """JSON kept as text (orjson both ways): portable, and exact about what round-trips."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return orjson.dumps(value).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return orjson.loads(value)


metadata = MetaData()

# SQLite makes only "INTEGER PRIMARY KEY" an auto-incrementing rowid alias.
_Serial = BigInteger().with_variant(Integer(), "sqlite")

schema_version = Table(
    "veneer_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

cache_entries = Table(
    "veneer_cache",
    metadata,
    # Keys are opaque and may be long (they carry query strings and caller identity): index a hash.
    Column("key_hash", String(64), primary_key=True),
    Column("key", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("headers", JsonText, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("etag", Text),
    Column("stored_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("veneer_cache_expires", "expires_at"),
)

idempotency_records = Table(
    "veneer_idempotency",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # sha256 of scope and key
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("state", String(16), nullable=False),  # in_progress | completed
    Column("status", Integer),
    Column("headers", JsonText),
    Column("body", LargeBinary),
    Column("created_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),  # an in-progress record past this may be taken over
    Column("expires_at", UtcDateTime, nullable=False),
    Index("veneer_idempotency_expires", "expires_at"),
)

outbox_entries = Table(
    "veneer_outbox",
    metadata,
    # seq is the delivery order (ids made in the same millisecond would not sort reliably).
    Column("seq", _Serial, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("backend", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("params", JsonText, nullable=False),
    Column("resource", Text),
    Column("idempotency_key", Text),
    Column("request_id", Text),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("result", JsonText),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Index("veneer_outbox_due", "status", "next_attempt_at"),
    Index("veneer_outbox_resource", "resource", "seq"),
)

audit_log = Table(
    "veneer_audit",
    metadata,
    Column("seq", _Serial, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("before", JsonText),
    Column("after", JsonText),
    Index("veneer_audit_target", "target", "seq"),
)

# An operator's forcing of a breaker, one row per breaker, so every process (workers, replicas)
# applies it and one started later finds it. ``revision`` changes with every write: a process
# applies each revision once. ``state`` "auto" is a hand-back, kept so that it reaches everyone.
breaker_forcings = Table(
    "veneer_breaker_forcings",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("revision", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("until_at", UtcDateTime),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
