"""Signing keys for JWTs from a JWKS document: a file, a URL, or both.

Only public signing keys are taken (``RSA``, ``EC``, ``OKP``; never ``oct``: a symmetric key has
no business in a published key set), and each key is pinned to the algorithms of its type:
an RSA key verifies RS*/PS* only, an EC key only the ES* of its curve, an Ed25519 key EdDSA, and
a key that names its ``alg`` that one only. So a token cannot pick an algorithm its key was not
made for (the RS256 → HS256 confusion needs exactly that).

The URL is fetched in the background, never on startup's critical path: the gateway boots while
the identity provider is down, and keeps the last good set when a refresh fails. A token whose
``kid`` is unknown triggers one refresh (shared by every request waiting for it, at most every
``min_interval_s``, waited for at most ``wait_s``), which is how a key rotation is picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import structlog
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from resilience import Clock

__all__ = ["JwksError", "JwksSource", "KeySet"]

log = structlog.get_logger("veneer.auth")
_MAX_JWKS_BYTES = 1024 * 1024
_RSA = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_CURVES = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
Fetch = Callable[[str], Awaitable[bytes]]


class JwksError(ValueError):
    """A JWKS document that cannot be used."""


def _suits(jwk: Mapping[str, Any], alg: str) -> bool:
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", alg) != alg:
        return False
    ops = jwk.get("key_ops")
    if ops is not None and "verify" not in ops:
        return False
    kty = jwk.get("kty")
    if kty == "RSA":
        return alg in _RSA
    if kty == "EC":
        return _EC_CURVES.get(str(jwk.get("crv"))) == alg
    if kty == "OKP":
        return alg == "EdDSA" and jwk.get("crv") in {"Ed25519", "Ed448"}
    return False


class KeySet:
    """Parsed signing keys; ``find`` returns the key a token's ``kid`` and ``alg`` select."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self._keys = keys
        self._loaded: dict[tuple[int, str], PyJWK] = {}

    @classmethod
    def parse(cls, raw: bytes | Mapping[str, Any]) -> KeySet:
        try:
            document = json.loads(raw) if isinstance(raw, bytes | str) else raw
        except ValueError as exc:
            raise JwksError(f"not JSON: {exc}") from exc
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise JwksError('a JWKS document is {"keys": [...]}')
        keys = [
            dict(key)
            for key in document["keys"]
            if isinstance(key, Mapping) and key.get("kty") in {"RSA", "EC", "OKP"}
        ]
        return cls(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def find(self, kid: str | None, alg: str) -> PyJWK | None:
        """The key for ``kid`` usable with ``alg``; without a kid, the only such key."""
        candidates = [
            i for i, key in enumerate(self._keys) if (kid is None or key.get("kid") == kid)
        ]
        candidates = [i for i in candidates if _suits(self._keys[i], alg)]
        if not candidates or (kid is None and len(candidates) > 1):
            return None
        index = candidates[0]
        loaded = self._loaded.get((index, alg))
        if loaded is None:
            try:
                loaded = PyJWK(self._keys[index], algorithm=alg)
            except PyJWKError as exc:
                log.warning("unusable JWKS key", kid=kid, alg=alg, reason=str(exc))
                return None
            self._loaded[(index, alg)] = loaded
        return loaded


async def _fetch_with_aiohttp(url: str) -> bytes:
    timeout = aiohttp.ClientTimeout(total=5, ceil_threshold=float("inf"))
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, headers={"Accept": "application/json"}) as reply,
    ):
        if reply.status != 200:
            raise JwksError(f"HTTP {reply.status}")
        body = await reply.content.read(_MAX_JWKS_BYTES + 1)
        if len(body) > _MAX_JWKS_BYTES:
            raise JwksError(f"larger than {_MAX_JWKS_BYTES} bytes")
        return body


class JwksSource:
    """Keys from ``file`` (read once, at startup) and ``url`` (refreshed in the background)."""

    def __init__(
        self,
        *,
        clock: Clock,
        file: Path | None = None,
        url: str | None = None,
        refresh_s: float = 300.0,
        min_interval_s: float = 30.0,
        wait_s: float = 2.0,
        fetch: Fetch | None = None,
    ) -> None:
        self.clock, self.url = clock, url
        self.refresh_s, self.min_interval_s, self.wait_s = refresh_s, min_interval_s, wait_s
        self._fetch = fetch or _fetch_with_aiohttp
        self._file_keys = KeySet([])
        self._url_keys = KeySet([])
        self._last_attempt = float("-inf")
        self._inflight: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        if file is not None:
            try:
                self._file_keys = KeySet.parse(file.read_bytes())
            except OSError as exc:
                raise JwksError(f"cannot read {file}: {exc.strerror or exc}") from exc

    def start(self) -> None:
        """Begin polling the URL (no-op without one); returns at once."""
        if self.url is not None and self._poller is None:
            self._poller = asyncio.create_task(self._poll())

    async def key(self, kid: str | None, alg: str) -> PyJWK | None:
        found = self._file_keys.find(kid, alg) or self._url_keys.find(kid, alg)
        if found is not None or self.url is None:
            return found
        refresh = self._refresh()
        if refresh is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(refresh), self.wait_s)
        return self._url_keys.find(kid, alg)

    def _refresh(self) -> asyncio.Task[None] | None:
        """The refresh in flight, or a new one unless the last began under min_interval ago."""
        if self._inflight is not None and not self._inflight.done():
            return self._inflight
        if self.clock.monotonic() - self._last_attempt < self.min_interval_s:
            return None
        self._last_attempt = self.clock.monotonic()
        self._inflight = asyncio.create_task(self._load_url())
        return self._inflight

    async def _load_url(self) -> None:
        assert self.url is not None
        try:
            keys = KeySet.parse(await self._fetch(self.url))
        except Exception as exc:  # whatever went wrong, the last good keys stay in use
            log.warning(
                "JWKS refresh failed; keeping the last good keys",
                error=type(exc).__name__,
                reason=str(exc),
            )
            return
        self._url_keys = keys
        log.info("JWKS loaded", keys=len(keys))

    async def _poll(self) -> None:
        while True:
            refresh = self._refresh()
            if refresh is not None:
                await asyncio.shield(refresh)
            await asyncio.sleep(
                self.refresh_s if len(self._url_keys) else max(self.min_interval_s, 5.0)
            )

    async def close(self) -> None:
        for task in (self._poller, self._inflight):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
