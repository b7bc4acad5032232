"""Scopes per route: 401 vs 403 decided before any cache or backend, includes checked, and
cached answers, idempotency keys and queued writes never shared between callers."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from adapters.errors import BackendUnavailable

from .conftest import READER_KEY, WRITER_KEY, Tokens, bearer, memory

WRITER = {"X-API-Key": WRITER_KEY}
READER = {"X-API-Key": READER_KEY}


async def test_api_keys_authenticate_with_their_clients_scopes(client: TestClient) -> None:
    """A configured key reads; a key with only things:read is 403 on a write; an unknown key is 401."""
    assert (await client.get("/api/v1/things/1", headers=READER)).status == 200
    refused = await client.put("/api/v1/things/1", json={"name": "x"}, headers=READER)
    assert refused.status == 403
    body = await refused.json(content_type=None)
    assert body["code"] == "forbidden" and body["missing_scopes"] == ["things:write"]
    unknown = await client.get("/api/v1/things/1", headers={"X-API-Key": "vk_" + "x" * 40})
    assert unknown.status == 401
    assert (await client.put("/api/v1/things/1", json={"name": "x"}, headers=WRITER)).status == 200


async def test_forbidden_is_decided_before_the_backend_and_reveals_nothing(
    client: TestClient, tokens: Tokens
) -> None:
    """Without the scope an existing and a missing resource get the same 403, and no call is made."""
    token = bearer(tokens.make(scope="people:read"))
    existing = await client.get("/api/v1/things/1", headers=token)
    missing = await client.get("/api/v1/things/999", headers=token)
    assert existing.status == missing.status == 403
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(await existing.json(content_type=None)) == strip(
        await missing.json(content_type=None)
    )
    assert memory(client).calls == []


async def test_forbidden_callers_never_see_a_cached_answer(
    client: TestClient, tokens: Tokens
) -> None:
    """An answer cached for an allowed caller is not served to one without the scope: 403 first."""
    assert (await client.get("/api/v1/things/1", headers=READER)).status == 200
    response = await client.get("/api/v1/things/1", headers=bearer(tokens.make(scope="")))
    assert response.status == 403
    assert "Cache-Status" not in response.headers


async def test_cached_answers_are_kept_per_caller(client: TestClient, tokens: Tokens) -> None:
    """Two callers asking for the same resource each get their own cache entry, never the other's."""
    alice = bearer(tokens.make(sub="alice"))
    bob = bearer(tokens.make(sub="bob"))
    first = await client.get("/api/v1/things/1", headers=alice)
    again = await client.get("/api/v1/things/1", headers=alice)
    other = await client.get("/api/v1/things/1", headers=bob)
    assert "stored" in first.headers["Cache-Status"]
    assert again.headers["Cache-Status"].startswith("veneer; hit")
    assert "fwd=miss" in other.headers["Cache-Status"]
    assert [call[0] for call in memory(client).calls] == ["get", "get"]


async def test_an_include_the_caller_may_not_read_is_reported_not_served(
    client: TestClient, tokens: Tokens
) -> None:
    """?include=owner without people:read answers the thing, owner null, unavailable: forbidden."""
    response = await client.get(
        "/api/v1/things/1?include=owner", headers=bearer(tokens.make(scope="things:read"))
    )
    assert response.status == 200
    body = await response.json()
    assert body["owner"] is None
    assert body["unavailable"] == {"owner": {"code": "forbidden", "title": "Forbidden"}}
    assert memory(client, "people").calls == []
    allowed = await client.get("/api/v1/things/1?include=owner", headers=WRITER)
    assert (await allowed.json())["owner"] == {"name": "Ada"}


async def test_a_public_route_needs_no_credential_but_refuses_a_bad_one(
    client: TestClient,
) -> None:
    """`public: true` serves anonymous callers; a broken credential sent to it is still 401."""
    assert (await client.get("/api/v1/public/1")).status == 200
    bad = await client.get("/api/v1/public/1", headers={"X-API-Key": "vk_" + "y" * 40})
    assert bad.status == 401


async def test_two_credentials_at_once_are_refused(client: TestClient, tokens: Tokens) -> None:
    """A request with both a bearer token and an API key is ambiguous: 401."""
    headers = {**bearer(tokens.make()), **WRITER}
    response = await client.get("/api/v1/things/1", headers=headers)
    assert response.status == 401
    assert "not both" in (await response.json(content_type=None))["detail"]


async def test_idempotency_keys_are_scoped_to_the_caller(
    client: TestClient, tokens: Tokens
) -> None:
    """The same Idempotency-Key from two callers runs two writes; neither gets the other's replay."""
    key = {"Idempotency-Key": "same-key-0001"}
    alice = await client.put(
        "/api/v1/things/1", json={"name": "a"}, headers={**bearer(tokens.make(sub="alice")), **key}
    )
    bob = await client.put(
        "/api/v1/things/1", json={"name": "b"}, headers={**bearer(tokens.make(sub="bob")), **key}
    )
    assert alice.status == bob.status == 200
    assert "Idempotent-Replayed" not in bob.headers
    assert [call[0] for call in memory(client).calls] == ["put", "put"]


async def test_a_queued_write_is_visible_to_its_submitter_only(
    client: TestClient, tokens: Tokens
) -> None:
    """The operation a 202 points at is readable by the caller who wrote; to others it does not exist."""
    memory(client).fail_with = BackendUnavailable("down")
    alice = bearer(tokens.make(sub="alice"))
    queued = await client.put("/api/v1/queued/1", json={"name": "q"}, headers=alice)
    assert queued.status == 202
    location = queued.headers["Location"]
    assert (await client.get(location, headers=alice)).status == 200
    other = await client.get(location, headers=bearer(tokens.make(sub="mallory")))
    assert other.status == 404
    assert (await client.get(location)).status == 401


async def test_unknown_api_paths_are_404_and_open_endpoints_stay_open(client: TestClient) -> None:
    """A path under /api that no route declares answers 404; /healthz and /openapi.json need nothing."""
    assert (await client.get("/api/v1/nothing")).status == 404
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/openapi.json")).status == 200
