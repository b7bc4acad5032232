"""The OpenAPI document: valid, served offline, and true to what the live server does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis import checks

from facade.openapi import build_openapi
from facade.settings import load_settings
from tests.support.credentials import bearer, token
from tests.support.live import LiveGateway, live_gateway

REPO = Path(__file__).resolve().parents[3]
SETTINGS = load_settings(REPO / "config" / "gateway.yaml")
AUTH = bearer(SETTINGS)  # every scope; the live gateway trusts the demo secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with live_gateway(
        REPO / "config" / "gateway.yaml", tmp_path_factory.mktemp("store")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(live: LiveGateway) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    # The suite's own bearer token authenticates every case; generated credentials would
    # only be refused (and two credentials at once are refused on principle).
    schema.config.generation.update(with_security_parameters=False)
    return schema


def test_document_is_valid_openapi_3_1() -> None:
    """The generated document passes openapi-spec-validator and describes every configured route."""
    loaded = load_settings(REPO / "config" / "gateway.yaml")
    document = build_openapi(loaded)
    validate(document)
    described = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    assert described == set(loaded.routes)


def test_docs_page_is_served_from_the_package(live: LiveGateway) -> None:
    """/docs is one self-contained page (no CDN) that loads /openapi.json from the same origin."""
    import urllib.request

    with urllib.request.urlopen(f"{live.url}/docs", timeout=5) as reply:
        page = reply.read().decode()
    assert 'fetch("openapi.json")' in page
    assert "http://" not in page and "https://" not in page


def test_veneer_openapi_prints_the_same_document() -> None:
    """`veneer openapi` prints the document the server serves."""
    out = subprocess.run(
        [sys.executable, "-m", "facade.cli", "openapi"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    import json

    assert json.loads(out) == json.loads(
        json.dumps(build_openapi(load_settings(REPO / "config" / "gateway.yaml")))
    )


# What the document promises: no server error, and every answer (status, content type, headers,
# body) as described. Acceptance of every schema-valid input is not among them: an opaque cursor
# is any string to a schema, yet only the ones the gateway issued are accepted.
def credential_accepted(
    ctx: object, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """The suite's token opens every route: a 401/403 here would hide the real behaviour."""
    assert response.status_code not in (401, 403), response.text[:200]


CHECKS = [
    credential_accepted,
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
ROUTES = sorted(load_settings(REPO / "config" / "gateway.yaml").routes)


@pytest.mark.parametrize("route", ROUTES)
def test_live_server_matches_its_document(api_schema: schemathesis.BaseSchema, route: str) -> None:
    """Generated requests for the operation never get a 500 nor an answer that breaks the document."""
    method, _, path = route.partition(" ")
    operation = api_schema[path][method]
    validated = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def check(case: schemathesis.Case) -> None:
        nonlocal validated
        case.call_and_validate(checks=CHECKS, headers=AUTH)
        validated += 1

    check()
    assert validated > 0


def test_document_declares_how_to_authenticate() -> None:
    """Bearer JWT and API key schemes are declared; each operation lists its scopes and 401/403/429."""
    document = build_openapi(SETTINGS)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["name"] == "X-API-Key"
    operation = document["paths"]["/api/v1/orders/{no}"]["get"]
    assert operation["security"] == [
        {"bearerAuth": ["orders:read"]},
        {"apiKeyAuth": ["orders:read"]},
    ]
    assert {"401", "403", "429"} <= set(operation["responses"])
    assert "RateLimit" in operation["responses"]["200"]["headers"]


def test_a_generated_client_lists_and_fetches_orders(live: LiveGateway, tmp_path: Path) -> None:
    """A client generated from /openapi.json by openapi-python-client lists orders and fetches one."""
    import importlib
    import os
    import urllib.request

    with urllib.request.urlopen(f"{live.url}/openapi.json", timeout=5) as reply:
        (tmp_path / "openapi.json").write_bytes(reply.read())
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    generator = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            "openapi.json",
            "--meta",
            "none",
            "--output-path",
            "veneer_client",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("veneer_client")
        list_orders = importlib.import_module("veneer_client.api.orders.get_orders")
        get_order = importlib.import_module("veneer_client.api.orders.get_orders_by_no")
        client = client_module.AuthenticatedClient(base_url=live.url, token=token(SETTINGS))
        status = importlib.import_module("veneer_client.models.get_orders_status").GetOrdersStatus(
            "Released"
        )
        page = list_orders.sync(client=client, limit=3, status=status)
        numbers = [item.no for item in page.data]
        assert len(numbers) == 3
        assert page.next_ is not None
        order = get_order.sync(no=numbers[0], client=client)
        assert order.no == numbers[0]
        assert order.lines
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("veneer_client")]:
            del sys.modules[name]
