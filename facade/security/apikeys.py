"""API keys for server-to-server clients: generated random, stored as salted hashes only.

A key is 256 random bits (``vk_`` + URL-safe base64), so a fast hash is as good as a slow one:
stretching (bcrypt, PBKDF2) protects guessable passwords, and costs every request milliseconds.
Each stored hash is ``sha256:<salt>:<HMAC-SHA256(salt, key)>``: the salt makes equal keys hash
differently, so a leaked config cannot be matched against keys leaked elsewhere. Verifying tries
each client's salt (a few microseconds each) and compares in constant time; keys that verified
are remembered by their SHA-256 (never the key itself), bounded, so the next request is one
dictionary lookup. A key that verified is also handed to the log redactor: a client that puts
its key in a URL or a body by mistake does not get it written to the logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from facade.redaction import REDACTOR
from facade.security.principal import Principal
from facade.settings import ApiKeyClient

__all__ = ["ApiKeyRegistry", "generate_api_key", "hash_api_key", "verify_api_key"]

_SCHEME = "sha256"
MIN_KEY_LENGTH = 20
_MAX_KEY_LENGTH = 256
_REMEMBERED = 10_000


def generate_api_key() -> str:
    """A new random key: what `veneer hash-api-key --generate` hands out."""
    return "vk_" + secrets.token_urlsafe(32)


def hash_api_key(key: str, *, salt: bytes | None = None) -> str:
    """The line to store in the configuration for ``key``."""
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"an API key needs at least {MIN_KEY_LENGTH} characters")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(salt, key.encode(), hashlib.sha256).hexdigest()
    return f"{_SCHEME}:{salt.hex()}:{digest}"


def verify_api_key(key: str, stored: str) -> bool:
    """Whether ``key`` is the one ``stored`` was made from (constant time in the digest)."""
    scheme, _, rest = stored.partition(":")
    salt_hex, _, digest = rest.partition(":")
    if scheme != _SCHEME or not salt_hex or not digest:
        return False
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    computed = hmac.new(salt, key.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(computed, digest)


class ApiKeyRegistry:
    """The configured clients; ``identify`` turns a presented key into a principal or None."""

    def __init__(self, clients: Mapping[str, ApiKeyClient]) -> None:
        self._clients = dict(clients)
        self._known: dict[bytes, Principal] = {}

    def __bool__(self) -> bool:
        return bool(self._clients)

    def known(self, key: str) -> Principal | None:
        """The principal of a key ``identify`` accepted before (one SHA-256, no key hashing);
        None for a key not seen yet, valid or not."""
        fingerprint = _fingerprint(key)
        return self._known.get(fingerprint) if fingerprint is not None else None

    def identify(self, key: str) -> Principal | None:
        fingerprint = _fingerprint(key)
        if fingerprint is None:
            return None
        known = self._known.get(fingerprint)
        if known is not None:
            return known
        for name, client in self._clients.items():
            if verify_api_key(key, client.hash):
                principal = Principal(name, "api_key", frozenset(client.scopes))
                if len(self._known) >= _REMEMBERED:
                    self._known.clear()
                self._known[fingerprint] = principal
                REDACTOR.remember([key])  # a real key is masked wherever a client put it
                return principal
        return None


def _fingerprint(key: str) -> bytes | None:
    """What a presented key is remembered by; None for no key or one too long to be real."""
    if not key or len(key) > _MAX_KEY_LENGTH:
        return None
    return hashlib.sha256(key.encode()).digest()
