"""Bad bearer tokens, one per row, each refused with the right problem before any backend call."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization

from .conftest import SECRET, Tokens, bearer, memory

NOW = int(time.time())


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def nested_header() -> str:
    """A header that is a JSON bomb: 3,000 nested arrays (the parser's recursion, not ours)."""
    raw = b'{"alg":' + b"[" * 3000 + b"]" * 3000 + b"}"
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + ".e30.c2ln"


def alg_none(t: Tokens) -> str:
    """An unsigned token claiming `alg: none` (PyJWT will not even make one)."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(t.claims())}."


def hs_with_the_rsa_public_key(t: Tokens) -> str:
    """The classic confusion: HS256 keyed with the RSA public key the gateway publishes."""
    pem = t.keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"})
    payload = _b64(t.claims())
    signing_input = f"{header}.{payload}".encode()
    import hashlib
    import hmac

    signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def rs256_with_the_ec_key_id(t: Tokens) -> str:
    """An RS256 token naming the EC key: a key is pinned to its own algorithms."""
    return t.make("RS256", kid="ec-1")


def tampered(t: Tokens) -> str:
    """A valid token whose payload was changed after signing (scopes widened)."""
    header, _, signature = t.make("HS256", scope="things:read").split(".")
    return f"{header}.{_b64(t.claims(scope='things:read things:write admin'))}.{signature}"


CASES: list[tuple[str, Callable[[Tokens], str], int, str, str]] = [
    ("expired", lambda t: t.make(exp=NOW - 60, iat=NOW - 400), 401, "unauthenticated", "expired"),
    ("not yet valid", lambda t: t.make(nbf=NOW + 600), 401, "unauthenticated", "not valid yet"),
    ("wrong audience", lambda t: t.make(aud="another-api"), 401, "unauthenticated", "audience"),
    ("no audience", lambda t: t.make(aud=None), 401, "unauthenticated", "'aud'"),
    ("wrong issuer", lambda t: t.make(iss="https://evil.test"), 401, "unauthenticated", "issuer"),
    ("no expiry", lambda t: t.make(exp=None), 401, "unauthenticated", "'exp'"),
    ("no subject", lambda t: t.make(sub=None), 401, "unauthenticated", "'sub'"),
    ("alg none", alg_none, 401, "unauthenticated", "algorithm"),
    ("HS256 keyed with the RSA public key", hs_with_the_rsa_public_key, 401, "unauthenticated", "signature"),
    ("RS256 naming the EC key", rs256_with_the_ec_key_id, 401, "unauthenticated", "no trusted key"),
    ("HS512, not accepted", lambda t: t.make("HS512", key=SECRET + "x" * 40), 401, "unauthenticated", "algorithm"),
    ("bad signature (wrong secret)", lambda t: t.make("HS256", key="x" * 40), 401, "unauthenticated", "signature"),
    ("bad signature (untrusted RSA key)", lambda t: t.make("RS256", key=t.keys.other_rsa), 401, "unauthenticated", "signature"),
    ("unknown key id", lambda t: t.make("RS256", kid="rsa-9"), 401, "unauthenticated", "no trusted key"),
    ("tampered payload", tampered, 401, "unauthenticated", "signature"),
    ("not a JWT", lambda t: "not-a-token", 401, "unauthenticated", "not a JWT"),
    ("header nested 3000 deep", lambda t: nested_header(), 401, "unauthenticated", "not a JWT"),
    ("missing scope", lambda t: t.make(scope="things:read"), 403, "forbidden", "things:write"),
    ("scope in another claim", lambda t: t.make(scope=None, roles=["things:write"]), 403, "forbidden", "things:write"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "build", "status", "code", "says"), CASES, ids=[case[0] for case in CASES]
)
async def test_each_bad_token_gets_its_problem_and_no_backend_call(
    client: TestClient,
    tokens: Tokens,
    name: str,
    build: Callable[[Tokens], str],
    status: int,
    code: str,
    says: str,
) -> None:
    """The token is refused with the expected status, code and reason; the backend is never called."""
    response = await client.put(
        "/api/v1/things/1", json={"name": "x"}, headers=bearer(build(tokens))
    )
    body = await response.json(content_type=None)
    assert (response.status, body["code"]) == (status, code), body
    assert says in body["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="veneer"')
    if status == 401:
        assert 'error="invalid_token"' in challenge
    else:
        assert 'error="insufficient_scope"' in challenge and 'scope="things:write"' in challenge
    assert memory(client).calls == []


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256"])
async def test_good_tokens_of_each_accepted_algorithm_pass(
    client: TestClient, tokens: Tokens, alg: str
) -> None:
    """A correct token signed with the shared secret, the RSA key or the EC key is accepted."""
    response = await client.get("/api/v1/things/1", headers=bearer(tokens.make(alg)))
    assert response.status == 200, await response.text()


async def test_clock_skew_within_the_leeway_is_tolerated(
    client: TestClient, tokens: Tokens
) -> None:
    """A token expired 5 s ago passes with a 10 s leeway; one expired 30 s ago does not."""
    recent = tokens.make(exp=int(time.time()) - 5)
    assert (await client.get("/api/v1/things/1", headers=bearer(recent))).status == 200
    old = tokens.make(exp=int(time.time()) - 30)
    assert (await client.get("/api/v1/things/1", headers=bearer(old))).status == 401


async def test_no_credential_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    """A request without any credential is 401 unauthenticated with WWW-Authenticate: Bearer."""
    response = await client.get("/api/v1/things/1")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="veneer"'
    assert (await response.json(content_type=None))["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Token abc.def.ghi", "bearer    "],
)
async def test_other_authorization_schemes_are_refused(client: TestClient, header: str) -> None:
    """Only `Bearer <token>` is understood; anything else in Authorization is 401."""
    response = await client.get("/api/v1/things/1", headers={"Authorization": header})
    assert response.status == 401


async def test_a_hostile_alg_is_not_echoed_into_headers(client: TestClient, tokens: Tokens) -> None:
    """An `alg` holding quotes or CR/LF never reaches the WWW-Authenticate header or the detail."""
    header = _b64({"alg": 'HS256"\r\nX-Evil: 1', "typ": "JWT"})
    token = f"{header}.{_b64(tokens.claims())}.c2ln"
    response = await client.get("/api/v1/things/1", headers=bearer(token))
    assert response.status == 401
    assert "X-Evil" not in response.headers and "Evil" not in await response.text()


def test_pyjwt_refuses_to_use_a_pem_public_key_as_an_hmac_secret(tokens: Tokens) -> None:
    """Defence in depth: even handed the PEM as a secret, PyJWT itself refuses it."""
    pem = tokens.keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(hs_with_the_rsa_public_key(tokens), pem, algorithms=["HS256"])
