"""API keys: stored as salted hashes only, verified in constant time, and hashed by the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from facade.security.apikeys import (
    ApiKeyRegistry,
    generate_api_key,
    hash_api_key,
    verify_api_key,
)
from facade.settings import ApiKeyClient

KEY = "vk_a_key_long_enough_to_be_hashed"


def test_a_hash_verifies_its_key_and_nothing_else() -> None:
    """hash → verify round-trips; a different key or a corrupted hash does not verify."""
    stored = hash_api_key(KEY)
    assert verify_api_key(KEY, stored)
    assert not verify_api_key(KEY + "x", stored)
    assert not verify_api_key(KEY, stored.replace("sha256:", "md5:"))
    assert not verify_api_key(KEY, "sha256:zz:" + "0" * 64)


def test_equal_keys_hash_differently() -> None:
    """The salt makes two hashes of one key differ, so hashes cannot be matched across configs."""
    assert hash_api_key(KEY) != hash_api_key(KEY)
    assert KEY not in hash_api_key(KEY)


def test_short_keys_are_refused() -> None:
    """A key too short to be random is not hashed at all."""
    with pytest.raises(ValueError, match="at least"):
        hash_api_key("short")


def test_generated_keys_are_long_and_distinct() -> None:
    """generate_api_key gives 256-bit URL-safe keys, never the same twice."""
    first, second = generate_api_key(), generate_api_key()
    assert first != second and first.startswith("vk_") and len(first) >= 40


def test_the_registry_names_the_client_and_its_scopes() -> None:
    """A key identifies its client as an api_key principal with the client's scopes."""
    registry = ApiKeyRegistry(
        {"partner": ApiKeyClient(hash=hash_api_key(KEY), scopes=("orders:read",))}
    )
    principal = registry.identify(KEY)
    assert principal is not None
    assert (principal.id, principal.scopes) == ("api_key:partner", frozenset({"orders:read"}))
    assert registry.identify(KEY) is principal  # remembered: one lookup the second time
    assert registry.identify("vk_unknown_key_000000000000") is None
    assert registry.identify("x" * 10_000) is None


def test_cli_hashes_a_key_from_stdin() -> None:
    """`veneer hash-api-key` prints a `hash:` line that verifies the key it read."""
    result = subprocess.run(
        [sys.executable, "-m", "facade.cli", "hash-api-key"],
        input=KEY + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    (line,) = result.stdout.splitlines()
    assert line.startswith("hash: sha256:")
    assert verify_api_key(KEY, line.removeprefix("hash: "))
    assert KEY not in result.stdout


def test_cli_generates_a_key_and_its_hash() -> None:
    """`veneer hash-api-key --generate` prints a new key and the hash that verifies it."""
    result = subprocess.run(
        [sys.executable, "-m", "facade.cli", "hash-api-key", "--generate"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key_line, hash_line = result.stdout.splitlines()
    assert verify_api_key(key_line.removeprefix("key: "), hash_line.removeprefix("hash: "))
