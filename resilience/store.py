"""The durable store behind the cache, idempotency records and the outbox: one SQLAlchemy engine.

SQLite (the embedded default, one process) and PostgreSQL (shared by replicas) run the same code.
What differs is set up here, once:

- **SQLite** takes its transactions out of the driver's hands (``isolation_level = None``) and
  emits ``BEGIN IMMEDIATE`` for write transactions, so two writers cannot both read a row and then
  overwrite each other (a deferred ``BEGIN`` would let them, or fail one with "database is
  locked" when it upgrades). Reads use a plain deferred ``BEGIN``: under WAL they never block a
  writer. ``synchronous=FULL`` makes a commit survive a power cut, not only a killed process:
  the outbox promises that an acknowledged write is kept.
- **Request-path statements on SQLite** (cache, idempotency, outbox) skip aiosqlite, which
  hands every driver call to its thread and back: sixteen hand-offs for one lookup by key,
  about 5 ms of CPU on a two-core VM and most of it on the event loop, and about 7 ms for one
  upsert.
  :meth:`Store.read_one` runs at once, on the calling thread, over one read-only connection of
  its own (autocommit, WAL: a reader does not wait for writers), about 0.1-0.3 ms. Its busy
  timeout is short (``READ_BUSY_TIMEOUT_S``), so a rare lock can stall the loop that long at
  most; the read then fails like any store error. :meth:`Store.write_one` runs the whole write
  transaction in one hand-off to a single writer thread with a connection of its own (SQLite
  has one writer at a time anyway), and :meth:`Store.transact` a transaction of several
  statements (idempotency claims, outbox writes). Architecture decision 38.
- **PostgreSQL** uses asyncpg, read-committed transactions, ``pool_pre_ping`` (a restarted
  server must not fail the first calls), an optional schema (``schema=``), and an advisory lock
  around ``create_all`` so replicas starting together do not race creating tables.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, Row, create_engine, event, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.sql import Executable
from sqlalchemy.sql.schema import Table

from resilience.clock import Clock
from resilience.schema import SCHEMA_VERSION, metadata, schema_version

__all__ = ["READ_BUSY_TIMEOUT_S", "Store", "StoreSchemaMismatch", "normalise_url"]

T = TypeVar("T")

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_WRITE = "veneer_write"  # execution option marking a connection's transaction as a write
_SCHEMA_LOCK = 0x7665_6E65  # "vene": the advisory lock id serialising create_all on PostgreSQL
_SQLITE_BUSY_TIMEOUT_S = 30.0
#: The longest a short read on SQLite waits for a lock, on the event loop (then it fails).
READ_BUSY_TIMEOUT_S = 0.05


class StoreSchemaMismatch(RuntimeError):
    """The database holds a schema version this code does not speak."""


def normalise_url(url: str) -> str:
    """The async driver URL for a store URL (``sqlite:///x`` → ``sqlite+aiosqlite:///x``)."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported store URL scheme {parsed.drivername!r}: "
            "use sqlite+aiosqlite:///path or postgresql+asyncpg://..."
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


class Store:
    """An open engine plus the schema; hands out write and read transactions."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock,
        reader: Engine | None = None,
        writer: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._reader = reader  # SQLite: the connection read_one runs on, on the loop's thread
        self._writer = writer  # SQLite: the connection write_one runs on, in _writes' thread
        self._writes = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="veneer-store-writer")
            if writer is not None
            else None
        )
        name = engine.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported dialect {name!r}")
        self.dialect: Literal["sqlite", "postgresql"] = name  # type: ignore[assignment]

    @classmethod
    async def open(cls, url: str, *, clock: Clock, schema: str | None = None) -> Store:
        """Connect, create the tables if missing (idempotent) and check the schema version.

        ``schema`` puts the tables in a PostgreSQL schema (created if missing); SQLite has none.
        For a SQLite file the parent directory is created. In-memory SQLite is refused: each
        pooled connection would see a different, empty database.
        """
        parsed = make_url(normalise_url(url))
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if schema is not None:
                raise ValueError("schema= is for PostgreSQL; a SQLite store is one file")
            database = parsed.database or ""
            if database in ("", ":memory:") or "mode=memory" in str(parsed):
                raise ValueError("an in-memory SQLite store is not supported: give a file path")
            await asyncio.to_thread(_make_parent_directory, database)
            options["connect_args"] = {"timeout": _SQLITE_BUSY_TIMEOUT_S}
        else:
            options["pool_pre_ping"] = True
            if schema is not None:
                options["execution_options"] = {"schema_translate_map": {None: schema}}
        engine = create_async_engine(parsed, **options)
        reader = writer = None
        if engine.dialect.name == "sqlite":
            _take_sqlite_transactions(engine.sync_engine)
            plain = parsed.set(drivername="sqlite+pysqlite")
            reader = _sqlite_reader(plain)
            writer = create_engine(
                plain,
                poolclass=StaticPool,  # one connection, used by the writer thread only
                connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            )
            _take_sqlite_transactions(writer)
        store = cls(engine, clock=clock, reader=reader, writer=writer)
        try:
            await store._create_schema(schema)
        except BaseException:
            await store.close()
            raise
        return store

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed on exit (``BEGIN IMMEDIATE`` on SQLite)."""
        async with self.engine.connect() as conn:
            await conn.execution_options(**{_WRITE: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction (deferred ``BEGIN`` on SQLite), rolled back on exit."""
        async with self.engine.connect() as conn:
            yield conn

    async def read_one(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Row[Any] | None:
        """The one row ``statement`` selects (with ``params``), or None (more than one raises).

        On SQLite it runs at once on the reader connection (see the module doc); elsewhere
        it is an ordinary read transaction.
        """
        if self._reader is not None:
            with self._reader.connect() as conn:
                return conn.execute(statement, params).one_or_none()
        async with self.read() as conn:
            return (await conn.execute(statement, params)).one_or_none()

    async def read_all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[Row[Any]]:
        """Every row ``statement`` selects, as :meth:`read_one` runs it: for small tables only
        (on SQLite the whole read happens on the calling thread)."""
        if self._reader is not None:
            with self._reader.connect() as conn:
                return list(conn.execute(statement, params).all())
        async with self.read() as conn:
            return list((await conn.execute(statement, params)).all())

    async def write_one(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> int:
        """Run ``statement`` in a write transaction of its own; the rows it touched.

        On SQLite the whole transaction is one hand-off to the writer thread (see the module
        doc); elsewhere it is an ordinary write transaction.
        """
        return await self.transact(lambda conn: int(conn.execute(statement, params).rowcount))

    async def transact(self, body: Callable[[Connection], T]) -> T:
        """Run ``body`` in a write transaction (committed if it returns); what it returns.

        ``body`` is plain synchronous code over a :class:`~sqlalchemy.engine.Connection`, so one
        transaction of several statements reads the same on both stores. On SQLite it runs in
        one hand-off to the writer thread; elsewhere through ``run_sync`` on an async write
        transaction. It must not touch the event loop.
        """
        if self._writes is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writes, self._transact_now, body)
        async with self.write() as conn:
            return await conn.run_sync(body)

    def _transact_now(self, body: Callable[[Connection], T]) -> T:
        assert self._writer is not None
        with self._writer.connect() as conn:
            conn.execution_options(**{_WRITE: True})  # in place: BEGIN IMMEDIATE
            with conn.begin():
                return body(conn)

    def insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """The dialect's INSERT, which both spell ``on_conflict_do_nothing/do_update``."""
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        return postgresql.insert(table)

    async def ping(self) -> None:
        """Raise if the store cannot answer a trivial query (for health checks)."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        if self._writes is not None:
            await asyncio.to_thread(self._writes.shutdown)  # lets a write under way finish
        for engine in (self._reader, self._writer):
            if engine is not None:
                engine.dispose()
        await self.engine.dispose()

    async def _create_schema(self, schema: str | None) -> None:
        async with self.write() as conn:
            if self.dialect == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK})
                if schema is not None:
                    quoted = conn.dialect.identifier_preparer.quote_schema(schema)
                    await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
            await conn.run_sync(metadata.create_all)
            found = (await conn.execute(select(schema_version.c.version))).scalar_one_or_none()
            if found is None:
                await conn.execute(
                    insert(schema_version).values(
                        id=1, version=SCHEMA_VERSION, created_at=self.clock.now()
                    )
                )
            elif found != SCHEMA_VERSION:
                raise StoreSchemaMismatch(
                    f"the store holds schema version {found}; this veneer speaks {SCHEMA_VERSION}"
                )


def _make_parent_directory(database: str) -> None:
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_reader(url: URL) -> Engine:
    """One read-only, autocommit connection to the SQLite file, used on the event loop."""
    reader = create_engine(
        url,
        poolclass=StaticPool,  # one connection, on the loop's thread only
        connect_args={"timeout": READ_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # autocommit: each SELECT its own snapshot
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=1")
        cursor.close()

    return reader


#: how often a new connection tries to switch the file to WAL while another holds it
_WAL_ATTEMPTS = 40


def _take_sqlite_transactions(engine: Engine) -> None:
    """Emit BEGIN ourselves (IMMEDIATE for writes); set WAL, FULL sync and the busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Workers of `serve --workers N` open the same new file at once, and switching it to
        # WAL can answer "database is locked" at once, without waiting out the busy timeout.
        for attempt in range(_WAL_ATTEMPTS):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except Exception as exc:
                if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.05)  # start-up only: one connection's first statement
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
