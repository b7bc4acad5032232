"""JWKS keys: pinned to their type, refreshed on an unknown kid at most every N seconds, never
needed at startup, and the last good set kept when the issuer's endpoint fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from facade.security.jwks import JwksError, JwksSource, KeySet
from resilience import FakeClock

from .conftest import Keys


class Issuer:
    """A fake JWKS endpoint: serves ``document`` (or raises) and counts fetches."""

    def __init__(self, document: dict[str, Any] | None) -> None:
        self.document = document
        self.fetches = 0

    async def __call__(self, url: str) -> bytes:
        self.fetches += 1
        if self.document is None:
            raise OSError("connection refused")
        return json.dumps(self.document).encode()


def test_keys_are_pinned_to_their_type(keys: Keys) -> None:
    """An RSA key serves RS*/PS* only, an EC P-256 key ES256 only; symmetric keys are never taken."""
    document = keys.jwks()
    document["keys"].append({"kty": "oct", "kid": "oct-1", "k": "c2VjcmV0"})
    found = KeySet.parse(document)
    assert found.find("rsa-1", "RS256") is not None
    assert found.find("rsa-1", "PS256") is not None
    assert found.find("rsa-1", "ES256") is None
    assert found.find("rsa-1", "HS256") is None
    assert found.find("ec-1", "ES256") is not None
    assert found.find("ec-1", "ES384") is None
    assert found.find("oct-1", "HS256") is None
    assert len(found) == 2


def test_a_key_that_names_its_alg_serves_only_that_one(keys: Keys) -> None:
    """`alg: PS256` on an RSA key refuses RS256; `use: enc` keys are never used to verify."""
    rsa_key = {**keys.jwks()["keys"][0], "alg": "PS256"}
    enc_key = {**keys.jwks()["keys"][0], "kid": "enc-1", "use": "enc"}
    found = KeySet.parse({"keys": [rsa_key, enc_key]})
    assert found.find("rsa-1", "RS256") is None
    assert found.find("rsa-1", "PS256") is not None
    assert found.find("enc-1", "RS256") is None


def test_without_a_kid_only_an_unambiguous_key_is_used(keys: Keys) -> None:
    """A token with no kid gets the single key suiting its alg, and none when two would."""
    found = KeySet.parse(keys.jwks())
    assert found.find(None, "ES256") is not None
    doubled = keys.jwks()
    doubled["keys"].append({**doubled["keys"][0], "kid": "rsa-2"})
    assert KeySet.parse(doubled).find(None, "RS256") is None


@pytest.mark.parametrize("raw", [b"not json", b'{"keys": 3}', b"[]"])
def test_a_malformed_document_is_refused(raw: bytes) -> None:
    """Non-JSON or a document without a keys list is a JwksError."""
    with pytest.raises(JwksError):
        KeySet.parse(raw)


def test_an_unreadable_jwks_file_fails_at_startup(tmp_path: Path) -> None:
    """A jwks_file that cannot be read is an error when the source is built, not at first request."""
    with pytest.raises(JwksError, match="cannot read"):
        JwksSource(clock=FakeClock(), file=tmp_path / "missing.json")


async def test_startup_does_not_need_the_url(keys: Keys) -> None:
    """With the issuer down the source starts, finds no key, and does not raise."""
    issuer = Issuer(None)
    source = JwksSource(clock=FakeClock(), url="https://idp.test/jwks", fetch=issuer)
    source.start()
    try:
        assert await source.key("rsa-1", "RS256") is None
    finally:
        await source.close()


async def test_an_unknown_kid_refreshes_at_most_every_min_interval(keys: Keys) -> None:
    """A flood of unknown kids makes one fetch per interval; after the interval a rotation is picked up."""
    clock = FakeClock()
    issuer = Issuer({"keys": []})
    source = JwksSource(clock=clock, url="https://idp.test/jwks", min_interval_s=30, fetch=issuer)
    try:
        for _ in range(20):
            assert await source.key("rsa-1", "RS256") is None
        assert issuer.fetches == 1
        issuer.document = keys.jwks()  # the issuer rotates its keys in
        assert await source.key("rsa-1", "RS256") is None  # still within the interval
        clock.advance(30)
        assert await source.key("rsa-1", "RS256") is not None
        assert issuer.fetches == 2
    finally:
        await source.close()


async def test_a_failed_refresh_keeps_the_last_good_keys(keys: Keys) -> None:
    """When the endpoint starts failing, keys fetched earlier still verify tokens."""
    clock = FakeClock()
    issuer = Issuer(keys.jwks())
    source = JwksSource(clock=clock, url="https://idp.test/jwks", min_interval_s=0, fetch=issuer)
    try:
        assert await source.key("rsa-1", "RS256") is not None
        issuer.document = None
        assert await source.key("ec-9", "ES256") is None  # triggers a refresh, which fails
        await asyncio.sleep(0)
        assert await source.key("rsa-1", "RS256") is not None
    finally:
        await source.close()


async def test_keys_are_fetched_over_http(keys: Keys, aiohttp_server: Any) -> None:
    """The real fetcher reads the issuer's JWKS with aiohttp; a non-200 answer keeps nothing."""
    from aiohttp import web

    served = {"status": 200}

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response(keys.jwks(), status=served["status"])

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    server = await aiohttp_server(app)
    source = JwksSource(clock=FakeClock(), url=str(server.make_url("/jwks")), min_interval_s=0)
    try:
        assert await source.key("ec-1", "ES256") is not None
    finally:
        await source.close()
    served["status"] = 500
    failing = JwksSource(clock=FakeClock(), url=str(server.make_url("/jwks")), min_interval_s=0)
    try:
        assert await failing.key("ec-1", "ES256") is None
    finally:
        await failing.close()
