"""Store fixtures: every store-backed test runs on SQLite and, with VENEER_TEST_PG_URL, PostgreSQL.

Each PostgreSQL test gets a schema of its own (dropped afterwards), so tests never see each
other's rows and parallel runs are safe; each SQLite test gets its own file.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from resilience.clock import FakeClock
from resilience.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'veneer.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    if store_url.startswith("sqlite"):
        opened = await Store.open(store_url, clock=clock)
        yield opened
        await opened.close()
        return
    schema = f"veneer_test_{uuid.uuid4().hex[:12]}"
    opened = await Store.open(store_url, clock=clock, schema=schema)
    try:
        yield opened
    finally:
        async with opened.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await opened.close()
