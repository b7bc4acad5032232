"""Configured routes over HTTP: templates in, adapter call, templates out, problems for errors."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.errors import BackendTimeout, BackendUnavailable, Conflict, ProtocolError
from adapters.registry import AdapterRegistry
from facade.app import RUNTIME, create_app
from facade.runtime import Runtime
from facade.settings import load_settings
from tests.support.credentials import TEST_API_KEY, TEST_API_KEY_HASH
from tests.support.memory_adapter import MemoryAdapter

CONFIG = """
cors:
  origins: [https://app.example.com]
auth:
  api_keys:
    clients:
      tester: {hash: "TEST_API_KEY_HASH", scopes: [things:read, things:write]}
backends:
  mem:
    kind: memory
    endpoint: http://127.0.0.1:1/
    options:
      records:
        "1": {name: one, price: "12.50", tags: [a, b]}
        "2": {name: two, price: "3", tags: []}
routes:
  GET /api/v1/things/{id}:
    backend: mem
    operation: get
    request: {id: path.id}
    response:
      id: path.id
      name: result.name
      price: {from: result.price, convert: number}
      tags: result.tags
      colour: result.colour
  GET /api/v1/things:
    backend: mem
    operation: list
    deprecation: "Sat, 01 Aug 2026 00:00:00 GMT"
    sunset: "Tue, 01 Dec 2026 00:00:00 GMT"
  PUT /api/v1/things/{id}:
    backend: mem
    operation: put
    request: {id: path.id, record: body}
"""

Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Client) -> TestClient:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(CONFIG).replace("TEST_API_KEY_HASH", TEST_API_KEY_HASH))
    settings = load_settings(path, environ={}, kinds=["memory"])
    registry = AdapterRegistry(discover=list)
    registry.register("memory", MemoryAdapter)
    app = create_app(await Runtime.open(settings, registry=registry))
    return await aiohttp_client(app, headers={"X-API-Key": TEST_API_KEY})


def adapter(client: TestClient) -> MemoryAdapter:
    found = client.app[RUNTIME].backends.adapters["mem"]
    assert isinstance(found, MemoryAdapter)
    return found


async def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code and body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_get_maps_the_result_through_the_response_template(client: TestClient) -> None:
    """A GET renders the backend's record through the route's template, converters included."""
    response = await client.get("/api/v1/things/1")
    assert response.status == 200
    assert await response.json() == {
        "id": "1",
        "name": "one",
        "price": 12.5,
        "tags": ["a", "b"],
        "colour": None,
    }
    assert adapter(client).calls == [("get", {"id": "1"})]


async def test_route_without_response_template_returns_the_result(client: TestClient) -> None:
    """With no response template the backend's result is returned as JSON as it is."""
    response = await client.get("/api/v1/things")
    assert [thing["name"] for thing in await response.json()] == ["one", "two"]


async def test_missing_record_is_a_404_problem(client: TestClient) -> None:
    """A GET whose backend finds nothing answers 404 not_found as problem+json."""
    body = await problem(await client.get("/api/v1/things/9"), 404, "not_found")
    assert body["title"] and "traceback" not in str(body).lower()


async def test_write_passes_the_json_body(client: TestClient) -> None:
    """A PUT hands the parsed JSON body to the operation and returns its result."""
    response = await client.put("/api/v1/things/2", json={"name": "deux"})
    assert response.status == 200
    assert adapter(client).records["2"] == {"name": "deux"}


async def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    """Unknown paths answer 404 route_not_found, wrong methods 405 with Allow."""
    await problem(await client.get("/api/v1/nothing"), 404, "route_not_found")
    response = await client.delete("/api/v1/things/1")
    body = await problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"] and "PUT" in body["detail"]


async def test_bad_bodies_are_rejected_before_the_backend(client: TestClient) -> None:
    """Wrong content type (415), broken JSON (400) and oversize bodies (413) never reach the adapter."""
    await problem(
        await client.put("/api/v1/things/1", data="x", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    await problem(
        await client.put(
            "/api/v1/things/1", data="{nope", headers={"Content-Type": "application/json"}
        ),
        400,
        "invalid_json",
    )
    big = b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    await problem(
        await client.put(
            "/api/v1/things/1", data=big, headers={"Content-Type": "application/json"}
        ),
        413,
        "body_too_large",
    )
    assert adapter(client).calls == []


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Conflict("stale Key"), 409, "conflict"),
        (BackendUnavailable("HTTP 503", retry_after=7), 503, "backend_unavailable"),
        (BackendTimeout("no reply"), 504, "backend_timeout"),
        (ProtocolError("<html>IIS stack trace at C:\\inetpub</html>"), 502, "bad_gateway"),
    ],
)
async def test_backend_errors_become_problems_without_internals(
    client: TestClient, error: Exception, status: int, code: str
) -> None:
    """Each adapter error maps to its status and code, and its backend message never leaks."""
    adapter(client).fail_with = error  # type: ignore[assignment]
    response = await client.get("/api/v1/things/1")
    body = await problem(response, status, code)
    assert str(error) not in str(body) and "inetpub" not in await response.text()
    if code == "backend_unavailable":
        assert response.headers["Retry-After"] == "7"


async def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    """A well-formed X-Request-ID is echoed; a malformed one is replaced by a generated id."""
    good = await client.get("/api/v1/things/1", headers={"X-Request-ID": "abc-123-def-456"})
    assert good.headers["X-Request-ID"] == "abc-123-def-456"
    bad = await client.get("/api/v1/things/1", headers={"X-Request-ID": 'x" onload=alert(1)'})
    assert bad.headers["X-Request-ID"] != 'x" onload=alert(1)'
    assert len(bad.headers["X-Request-ID"]) == 24


async def test_deprecation_and_sunset_headers(client: TestClient) -> None:
    """A route configured as deprecated says so, and when it goes away, on every answer."""
    response = await client.get("/api/v1/things")
    assert response.headers["Deprecation"] == "Sat, 01 Aug 2026 00:00:00 GMT"
    assert response.headers["Sunset"] == "Tue, 01 Dec 2026 00:00:00 GMT"
    assert "Deprecation" not in (await client.get("/api/v1/things/1")).headers


async def test_cors_allows_listed_origins_only(client: TestClient) -> None:
    """A listed origin gets CORS headers and preflights; any other origin gets none, and 403 on preflight."""
    allowed = await client.get("/api/v1/things/1", headers={"Origin": "https://app.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    denied = await client.get("/api/v1/things/1", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    ok = await client.options("/api/v1/things/1", headers=preflight)
    assert ok.status == 204
    assert "Idempotency-Key" in ok.headers["Access-Control-Allow-Headers"]
    bad = await client.options(
        "/api/v1/things/1", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert bad.status == 403
