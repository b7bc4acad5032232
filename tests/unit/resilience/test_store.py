"""The store: URLs, schema creation and version, UTC times, and SQLite's write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, insert, select, text, update
from sqlalchemy.exc import DatabaseError, OperationalError, StatementError

from resilience.clock import FakeClock
from resilience.response_cache import ResponseCache
from resilience.schema import SCHEMA_VERSION, cache_entries, schema_version
from resilience.store import Store, StoreSchemaMismatch, normalise_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/v.db", "sqlite+aiosqlite:///data/v.db"),
        ("sqlite+aiosqlite:///data/v.db", "sqlite+aiosqlite:///data/v.db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_urls_are_normalised_to_the_async_drivers(given: str, expected: str) -> None:
    """Plain scheme names map to the async drivers, keeping credentials."""
    assert normalise_url(given) == expected


def test_an_unsupported_scheme_is_refused() -> None:
    """A MySQL URL is refused with a message naming the supported forms."""
    with pytest.raises(ValueError, match="sqlite\\+aiosqlite"):
        normalise_url("mysql://h/db")


async def test_in_memory_sqlite_is_refused(clock: FakeClock) -> None:
    """An in-memory SQLite store would differ per pooled connection, so it is refused."""
    with pytest.raises(ValueError, match="in-memory"):
        await Store.open("sqlite+aiosqlite://", clock=clock)


async def test_a_schema_is_refused_for_sqlite(clock: FakeClock, tmp_path: Path) -> None:
    """schema= is a PostgreSQL notion; passing it for SQLite is a configuration error."""
    with pytest.raises(ValueError, match="schema"):
        await Store.open(f"sqlite:///{tmp_path}/v.db", clock=clock, schema="x")


async def test_open_creates_the_data_directory_and_wal(clock: FakeClock, tmp_path: Path) -> None:
    """Opening a SQLite file in a missing directory creates it, in WAL mode."""
    path = tmp_path / "deep" / "data" / "veneer.db"
    store = await Store.open(f"sqlite:///{path}", clock=clock)
    try:
        assert path.exists()
        async with store.read() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
        assert store.dialect == "sqlite"
    finally:
        await store.close()


async def test_open_is_idempotent_and_writes_one_version_row(store: Store) -> None:
    """The schema is created once; reopening adds no second version row and keeps data."""
    async with store.read() as conn:
        rows = (await conn.execute(select(schema_version))).all()
    assert [row.version for row in rows] == [SCHEMA_VERSION]
    await store._create_schema(None if store.dialect == "sqlite" else _schema_of(store))
    async with store.read() as conn:
        assert len((await conn.execute(select(schema_version))).all()) == 1


async def test_a_newer_schema_version_is_refused(store: Store) -> None:
    """A database written by another schema version is not used."""
    async with store.write() as conn:
        await conn.execute(update(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(StoreSchemaMismatch, match=f"version {SCHEMA_VERSION + 1}"):
        await store._create_schema(None if store.dialect == "sqlite" else _schema_of(store))


async def test_times_come_back_utc_aware(store: Store) -> None:
    """A time written with any offset reads back as the same instant, tz-aware UTC."""
    written = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    async with store.write() as conn:
        await conn.execute(
            insert(cache_entries).values(
                key_hash="k",
                key="k",
                status=200,
                headers=[],
                body=b"",
                stored_at=written,
                expires_at=written,
            )
        )
    async with store.read() as conn:
        stored_at = (await conn.execute(select(cache_entries.c.stored_at))).scalar_one()
    assert stored_at == written
    assert stored_at.tzinfo is not None and stored_at.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(store: Store) -> None:
    """A naive datetime is ambiguous, so writing one fails instead of guessing."""
    with pytest.raises(StatementError, match="naive"):
        async with store.write() as conn:
            await conn.execute(
                insert(schema_version).values(id=2, version=1, created_at=datetime(2026, 1, 1))
            )


async def test_ping_answers(store: Store) -> None:
    """ping succeeds on an open store by running a statement on the database itself."""
    sent: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await store.ping()
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
    assert "SELECT 1" in sent


def overwrite(path: Path) -> None:
    """Put something that is not a database where the SQLite file (and its WAL) were."""
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    path.write_bytes(b"not a database " * 512)


async def test_ping_fails_once_the_file_is_no_database(tmp_path: Path) -> None:
    """A SQLite file overwritten with something else fails the ping readiness relies on."""
    path = tmp_path / "v.db"
    store = await Store.open(f"sqlite:///{path}", clock=FakeClock())
    try:
        await store.ping()
        await store.engine.dispose()  # the next ping opens the file again
        overwrite(path)
        with pytest.raises(DatabaseError):
            await store.ping()
    finally:
        await store.close()


async def test_sqlite_write_transactions_do_not_lose_updates(tmp_path: Path) -> None:
    """Read-then-write in 20 concurrent write transactions adds up (BEGIN IMMEDIATE serialises)."""
    store = await Store.open(f"sqlite:///{tmp_path}/v.db", clock=FakeClock())
    try:
        async with store.write() as conn:
            await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await conn.execute(text("INSERT INTO counter VALUES (0)"))

        async def increment() -> None:
            async with store.write() as conn:
                n = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
                await asyncio.sleep(0.001)  # let the other transactions try to interleave
                await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(*(increment() for _ in range(20)))
        async with store.read() as conn:
            assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 20
    finally:
        await store.close()


async def test_a_read_does_not_block_a_write_on_sqlite(tmp_path: Path) -> None:
    """Under WAL an open read transaction leaves writers free, and keeps its snapshot."""
    store = await Store.open(f"sqlite:///{tmp_path}/v.db", clock=FakeClock())
    try:
        async with store.read() as reader:
            before = (await reader.execute(select(schema_version.c.version))).scalar_one()
            async with store.write() as writer:
                await writer.execute(update(schema_version).values(version=before + 5))
            still = (await reader.execute(select(schema_version.c.version))).scalar_one()
        assert still == before
    finally:
        await store.close()


def _schema_of(store: Store) -> str:
    translate = store.engine.get_execution_options()["schema_translate_map"]
    return str(translate[None])


async def test_short_reads_and_writes_round_trip(store: Store) -> None:
    """write_one runs a statement in a transaction of its own; read_one finds its row, or None."""
    now = datetime.now(UTC)
    row = {
        "key_hash": "a" * 64,
        "key": "k",
        "status": 200,
        "headers": [["ETag", '"1"']],
        "body": b"{}",
        "etag": '"1"',
        "stored_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    assert await store.write_one(insert(cache_entries).values(**row)) == 1
    lookup = select(cache_entries).where(cache_entries.c.key_hash == "a" * 64)
    found = await store.read_one(lookup)
    assert found is not None and found.body == b"{}" and found.headers == [["ETag", '"1"']]
    assert found.expires_at == row["expires_at"]
    missing = select(cache_entries).where(cache_entries.c.key_hash == "b" * 64)
    assert await store.read_one(missing) is None


class Refused(Exception):
    """Raised by a transaction body after its first statement, to see that nothing is kept."""


async def test_a_transaction_keeps_all_its_statements_or_none(store: Store) -> None:
    """transact commits what its body did when the body returns, and nothing when it raises."""
    now = datetime.now(UTC)

    def entry(key_hash: str) -> dict[str, object]:
        return {
            "key_hash": key_hash,
            "key": "k",
            "status": 200,
            "headers": [],
            "body": b"{}",
            "stored_at": now,
            "expires_at": now + timedelta(hours=1),
        }

    def two_rows(conn: Connection) -> int:
        conn.execute(insert(cache_entries).values(**entry("a" * 64)))
        conn.execute(insert(cache_entries).values(**entry("b" * 64)))
        return 2

    def one_row_then_refuse(conn: Connection) -> None:
        conn.execute(insert(cache_entries).values(**entry("c" * 64)))
        raise Refused

    assert await store.transact(two_rows) == 2
    with pytest.raises(Refused):
        await store.transact(one_row_then_refuse)

    keys = select(cache_entries.c.key_hash).order_by(cache_entries.c.key_hash)
    async with store.read() as conn:
        kept = (await conn.execute(keys)).scalars().all()
    assert kept == ["a" * 64, "b" * 64]


async def test_a_short_read_of_a_locked_sqlite_file_fails_fast(tmp_path: Path) -> None:
    """read_one runs on the event loop, so a lock held elsewhere stops it within its short
    busy timeout (not the writers' 30 s), and the response cache takes that as a miss."""
    store = await Store.open(f"sqlite:///{tmp_path}/v.db", clock=FakeClock())
    await store.engine.dispose()  # no pooled connection open: the holder may lock the file
    holder = sqlite3.connect(tmp_path / "v.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")  # held until rollback: nobody else may read
        lookup = select(cache_entries).where(cache_entries.c.key_hash == "a" * 64)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            await store.read_one(lookup)
        assert time.monotonic() - started < 1.0  # the writers wait up to 30 s
        cache = ResponseCache(store, clock=FakeClock())
        assert await cache.get("GET /api/v1/orders/SO-1") is None
    finally:
        holder.rollback()
        holder.close()
        await store.close()
