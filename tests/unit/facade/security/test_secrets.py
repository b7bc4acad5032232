"""Configured secrets and presented credentials never appear in a log line, a problem or an ops
answer, whatever path they take (grep-style: every byte written is searched)."""

from __future__ import annotations

import asyncio
import io
import logging
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest
import structlog
from aiohttp.test_utils import TestClient

from adapters.errors import AccessDenied, BackendUnavailable, InvalidRequest
from facade.app import create_app
from facade.logs import ACCESS_LOG, configure_logging
from facade.middlewares.access_log import AccessRecorder
from facade.redaction import REDACTOR, Redactor, redact, remember_secrets
from facade.runtime import Runtime
from facade.security.apikeys import hash_api_key
from facade.settings import Secret, load_settings

from .conftest import memory, registry

Client = Callable[..., Awaitable[TestClient]]

JWT_SECRET = "jwt-secret-that-must-never-be-seen-000001"
BACKEND_PASSWORD = "backend-password-never-seen-02"
OPS_ADMIN = "ops-admin-token-never-seen-03"
API_KEY = "vk_api_key_that_must_never_be_seen_04"
SECRETS = (JWT_SECRET, BACKEND_PASSWORD, OPS_ADMIN, API_KEY)

CONFIG = """
auth:
  jwt: {issuer: i, audience: a, algorithms: [HS256], secret: "${JWT_SECRET}"}
  api_keys:
    clients:
      partner: {hash: "API_KEY_HASH", scopes: [things:read, things:write]}
ops: {admin_token: "${OPS_ADMIN}"}
backends:
  mem:
    kind: memory
    endpoint: http://127.0.0.1:1/
    credentials: {username: admin, password: "${MEM_PASSWORD}"}
    breaker: {consecutive_failures: 100}
    options: {records: {"1": {name: one}}}
routes:
  GET /api/v1/things/{id}: {backend: mem, operation: get, request: {id: path.id}}
  PUT /api/v1/things/{id}:
    backend: mem
    operation: put
    request: {id: path.id, record: body}
    outbox: {max_attempts: 1}
"""


@pytest.fixture
async def leaky(tmp_path: Path, aiohttp_client: Client) -> tuple[TestClient, io.StringIO]:
    """A gateway whose backend puts its password in every error message it raises."""
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(CONFIG).replace("API_KEY_HASH", hash_api_key(API_KEY)))
    environ = {"JWT_SECRET": JWT_SECRET, "MEM_PASSWORD": BACKEND_PASSWORD, "OPS_ADMIN": OPS_ADMIN}
    settings = load_settings(path, environ=environ, kinds=["memory"])
    stream = io.StringIO()
    configure_logging("debug", "json", stream)
    client = await aiohttp_client(create_app(await Runtime.open(settings, registry=registry())))
    return client, stream


async def test_nothing_written_contains_a_secret(leaky: tuple[TestClient, io.StringIO]) -> None:
    """Backend errors quoting the password, logged credentials, problems: no secret survives."""
    client, stream = leaky
    bodies: list[str] = []
    key = {"X-API-Key": API_KEY}
    token = {"Authorization": f"Bearer {JWT_SECRET}"}  # a careless client sends the secret itself
    memory(client).fail_with = AccessDenied(f"login admin/{BACKEND_PASSWORD} refused")
    for response in (
        await client.get("/api/v1/things/1", headers=key),
        await client.get("/api/v1/things/1", headers=token),
        await client.get("/api/v1/things/1", headers={"X-API-Key": API_KEY + "x"}),
        await client.get(f"/api/v1/things/{API_KEY}", headers=key),
        await client.put("/api/v1/things/1", data=f'{{"p": "{API_KEY}"', headers={**key, "Content-Type": "application/json"}),
    ):  # fmt: skip
        bodies.append(f"{response.status} {dict(response.headers)} {await response.text()}")
    log = structlog.get_logger("veneer.test")
    log.warning(
        "careless", password=BACKEND_PASSWORD, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    log.error("quoted", detail=f"connect with {BACKEND_PASSWORD} and {OPS_ADMIN}")
    try:
        raise RuntimeError(f"boom {JWT_SECRET}")
    except RuntimeError:
        log.exception("traceback")
    # a library's own log record, the way aiohttp reports a malformed header line
    logging.getLogger("aiohttp.server").error("bad line: b'Authorization: Bearer %s'", OPS_ADMIN)
    written = stream.getvalue() + "\n".join(bodies)
    assert "backend call failed" in written and "traceback" in written and "bad line" in written
    for secret in SECRETS:
        assert secret not in written, f"{secret} leaked"


async def test_ops_answers_never_contain_a_secret(leaky: tuple[TestClient, io.StringIO]) -> None:
    """A dead-lettered write whose backend error quotes the password shows no password in /ops."""
    client, _ = leaky
    memory(client).fail_with = BackendUnavailable(f"pool exhausted for admin/{BACKEND_PASSWORD}")
    queued = await client.put(
        "/api/v1/things/1", json={"name": "x"}, headers={"X-API-Key": API_KEY}
    )
    assert queued.status == 202
    memory(client).fail_with = InvalidRequest(f"login admin/{BACKEND_PASSWORD}: bad record")
    admin = {"Authorization": f"Bearer {OPS_ADMIN}"}
    for _ in range(100):  # the worker polls every 0.5 s; one refused delivery dead-letters it
        listing = await (await client.get("/ops/outbox", headers=admin)).text()
        if '"status":"dead"' in listing:
            break
        await asyncio.sleep(0.1)
    answers = [
        await (await client.get(path, headers=admin)).text()
        for path in ("/ops/outbox", "/ops/breakers", "/ops/audit", "/metrics", "/readyz")
    ]
    assert '"status":"dead"' in answers[0] and "bad record" in answers[0]
    for secret in SECRETS:
        assert all(secret not in answer for answer in answers), (
            f"{secret} leaked: {[a[:400] for a in answers if secret in a]}"
        )


def test_redact_masks_values_names_and_credential_shapes() -> None:
    """Configured values anywhere, secret-named fields whole, bearer and JWT-looking text."""
    redactor = Redactor()
    redactor.remember(["s3cr3t-value"])
    data = {
        "message": "login with s3cr3t-value failed",
        "password": "anything",
        "X-API-Key": "k",
        "admin_token": "t",
        "nested": [{"Authorization": "Bearer abc"}, "Bearer abcdefgh12345678"],
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "idempotency_key": "visible",
        "tokens": 3,
    }
    assert redactor.redact(data) == {
        "message": "login with *** failed",
        "password": "***",
        "X-API-Key": "***",
        "admin_token": "***",
        "nested": [{"Authorization": "***"}, "Bearer ***"],
        "jwt": "***",
        "idempotency_key": "visible",
        "tokens": 3,
    }


def test_remember_secrets_collects_every_secret_in_the_settings(tmp_path: Path) -> None:
    """Every Secret field in the settings tree, and a Redis URL's password, is registered."""
    path = tmp_path / "gateway.yaml"
    path.write_text(
        textwrap.dedent(CONFIG).replace("API_KEY_HASH", hash_api_key(API_KEY))
        + "rate_limit: {redis_url: 'redis://:redis-pass-0005@localhost:6379/0'}\n"
    )
    environ = {"JWT_SECRET": JWT_SECRET, "MEM_PASSWORD": BACKEND_PASSWORD, "OPS_ADMIN": OPS_ADMIN}
    remember_secrets(load_settings(path, environ=environ, kinds=["memory"]))
    text = redact(f"{JWT_SECRET} {BACKEND_PASSWORD} {OPS_ADMIN} redis-pass-0005")
    assert text == "*** *** *** ***"
    assert redact(Secret("x")) == "***"
    assert REDACTOR.text("ordinary words stay") == "ordinary words stay"


def test_a_secret_that_json_escapes_is_masked_in_json_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A secret with a quote, a backslash or a control character is written escaped in a JSON
    line, and the access log scrubs lines as rendered text: the escaped form is masked too."""
    monkeypatch.setattr(REDACTOR, "_secrets", list(REDACTOR._secrets))  # restored afterwards
    secret = 'pa"ss\\word\t-never-seen-05'
    REDACTOR.remember([secret])
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    AccessRecorder().record_fields(
        "GET", f"/api/v1/things/{secret}", "/api/v1/things/{id}", 404, 0.001, [], None, "x",
        {"request_id": "r-00000001"},
    )  # fmt: skip
    ACCESS_LOG.flush()
    structlog.get_logger("veneer.test").info("said", detail=f"with {secret}")
    written = stream.getvalue()
    assert "/api/v1/things/" in written and "said" in written
    assert secret not in written
    assert orjson.dumps(secret).decode()[1:-1] not in written
