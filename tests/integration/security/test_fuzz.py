"""Fuzzing the live gateway with schemathesis' negative data: no input makes it answer 500.

Negative mode breaks the document on purpose (wrong types, out-of-range values, malformed
bodies, missing required parts); each answer must be a 4xx problem or a success, never a
server error, with credentials and without.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks

from facade.settings import load_settings
from tests.support.credentials import bearer
from tests.support.live import LiveGateway, live_gateway

REPO = Path(__file__).resolve().parents[3]
SETTINGS = load_settings(REPO / "config" / "gateway.yaml")
ROUTES = sorted(SETTINGS.routes)
AUTH = bearer(SETTINGS)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with live_gateway(
        REPO / "config" / "gateway.yaml",
        tmp_path_factory.mktemp("store"),
        env={"VENEER_RATE_LIMIT_BURST": "100000"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(live: LiveGateway) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    schema.config.generation.update(with_security_parameters=False)
    return schema


def fuzz(operation: schemathesis.APIOperation, headers: dict[str, str]) -> int:
    """Send generated invalid requests; how many were sent (each checked: no 5xx)."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        case.call_and_validate(checks=[checks.not_a_server_error], headers=headers)
        sent += 1

    run()
    return sent


@pytest.mark.parametrize("route", ROUTES)
def test_negative_data_never_gets_a_500(api_schema: schemathesis.BaseSchema, route: str) -> None:
    """With a valid token, 40 invalid requests per operation are all answered without a 5xx crash."""
    method, _, path = route.partition(" ")
    assert fuzz(api_schema[path][method], AUTH) > 0


@pytest.mark.parametrize("route", ROUTES[:4])
def test_negative_data_without_credentials_never_gets_a_500(
    api_schema: schemathesis.BaseSchema, route: str
) -> None:
    """Without a credential, invalid requests are refused (401) before anything can break."""
    method, _, path = route.partition(" ")
    assert fuzz(api_schema[path][method], {}) > 0
