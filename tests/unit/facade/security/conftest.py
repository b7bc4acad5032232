"""A gateway over in-memory backends with every kind of credential configured, and key material.

Trusted: an HS256 secret (from the environment), an RSA and an EC key published in a JWKS file,
and two API key clients. ``tokens.make(...)`` signs whatever a test needs, good or bad.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from adapters.registry import AdapterRegistry
from facade.app import RUNTIME, create_app
from facade.runtime import Runtime
from facade.security.apikeys import hash_api_key
from facade.settings import Settings, load_settings
from tests.support.memory_adapter import MemoryAdapter

Client = Callable[..., Awaitable[TestClient]]

ISSUER = "https://idp.test"
AUDIENCE = "veneer-test"
SECRET = "an-hs256-secret-of-at-least-32-bytes-0001"
WRITER_KEY = "vk_writer_key_for_security_tests_01"
READER_KEY = "vk_reader_key_for_security_tests_01"

CONFIG = """
auth:
  jwt:
    issuer: https://idp.test
    audience: veneer-test
    algorithms: [HS256, RS256, ES256]
    secret: ${JWT_SECRET}
    jwks_file: jwks.json
    leeway: 10s
  api_keys:
    clients:
      writer: {hash: "WRITER_HASH", scopes: [things:read, things:write, people:read]}
      reader: {hash: "READER_HASH", scopes: [things:read]}
rate_limit: {rate: 1000, burst: 1000}
backends:
  mem:
    kind: memory
    endpoint: http://127.0.0.1:1/
    options:
      records:
        "1": {name: one, owner: "7"}
        "2": {name: two, owner: "7"}
    cache: {ttl: 60s}
  people:
    kind: memory
    endpoint: http://127.0.0.1:1/
    options:
      records:
        "7": {name: Ada}
routes:
  GET /api/v1/things/{id}:
    backend: mem
    operation: get
    request: {id: path.id}
    response: {id: path.id, name: result.name, owner_id: result.owner}
    include:
      owner:
        route: GET /api/v1/people/{id}
        params: {id: result.owner_id}
  PUT /api/v1/things/{id}:
    backend: mem
    operation: put
    request: {id: path.id, record: body}
  PUT /api/v1/queued/{id}:
    backend: mem
    operation: put
    scopes: [things:write]
    request: {id: path.id, record: body}
    outbox: {}
  GET /api/v1/people/{id}:
    backend: people
    operation: get
    request: {id: path.id}
    response: {name: result.name}
  GET /api/v1/public/{id}:
    backend: mem
    operation: get
    public: true
    request: {id: path.id}
    response: {name: result.name}
  GET /api/v1/limited/{id}:
    backend: mem
    operation: get
    request: {id: path.id}
    response: {name: result.name}
    scopes: [things:read]
    rate_limit: {rate: 1, burst: 2}
"""


@dataclass
class Keys:
    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    other_rsa: rsa.RSAPrivateKey  # trusted by nobody

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig"},
                {**ec_jwk, "kid": "ec-1", "use": "sig"},
            ]
        }


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        other_rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


class Tokens:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice",
            "scope": "things:read things:write people:read",
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def make(
        self, alg: str = "HS256", key: Any = None, kid: str | None = None, **claims: Any
    ) -> str:
        """A token signed with ``alg``; the trusted key for it unless ``key`` is given."""
        if key is None:
            key = {"HS256": SECRET, "RS256": self.keys.rsa, "ES256": self.keys.ec}[alg]
        if kid is None and alg in {"RS256", "ES256"}:
            kid = {"RS256": "rsa-1", "ES256": "ec-1"}[alg]
        headers = {"kid": kid} if kid else None
        return jwt.encode(self.claims(**claims), key, algorithm=alg, headers=headers)


@pytest.fixture
def tokens(keys: Keys) -> Tokens:
    return Tokens(keys)


def write_config(directory: Path, keys: Keys, text: str = CONFIG) -> Path:
    (directory / "jwks.json").write_text(json.dumps(keys.jwks()))
    path = directory / "gateway.yaml"
    body = textwrap.dedent(text)
    body = body.replace("WRITER_HASH", hash_api_key(WRITER_KEY))
    body = body.replace("READER_HASH", hash_api_key(READER_KEY))
    path.write_text(body)
    return path


def load(path: Path, **environ: str) -> Settings:
    return load_settings(path, environ={"JWT_SECRET": SECRET, **environ}, kinds=["memory"])


def registry() -> AdapterRegistry:
    found = AdapterRegistry(discover=list)
    found.register("memory", MemoryAdapter)
    return found


@pytest.fixture
async def client(tmp_path: Path, keys: Keys, aiohttp_client: Client) -> TestClient:
    settings = load(write_config(tmp_path, keys))
    return await aiohttp_client(create_app(await Runtime.open(settings, registry=registry())))


def memory(client: TestClient, backend: str = "mem") -> MemoryAdapter:
    found = client.app[RUNTIME].backends.adapters[backend]
    assert isinstance(found, MemoryAdapter)
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
