"""Shared fixtures: external resources that tests take from the environment.

PostgreSQL, Redis and the shared legacy samples come from ``VENEER_TEST_PG_URL``,
``VENEER_TEST_REDIS_URL`` and ``VENEER_TEST_SAMPLES``. Where one is unset the tests that need it
skip, saying why; under ``VENEER_REQUIRE_EXTERNAL=1`` (set by ``.ci/run``) they fail instead, so
CI can never go green by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def external(variable: str, what: str) -> str:
    value = os.environ.get(variable, "")
    if value:
        return value
    message = f"{what} not available: set {variable} to run this test"
    if os.environ.get("VENEER_REQUIRE_EXTERNAL") == "1":
        pytest.fail(message + " (VENEER_REQUIRE_EXTERNAL=1 forbids skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    path = Path(external("VENEER_TEST_SAMPLES", "the shared legacy samples"))
    if not path.is_dir():
        pytest.fail(f"VENEER_TEST_SAMPLES={path} is not a directory")
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    return external("VENEER_TEST_PG_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return external("VENEER_TEST_REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
