"""Credentials for tests: tokens the configured gateway accepts, and API keys with their hashes."""

from __future__ import annotations

from facade.security import AccessTable, mint_token
from facade.security.apikeys import hash_api_key
from facade.settings import Settings

#: An API key for test configurations, and the line that makes a client accept it.
TEST_API_KEY = "vk_test_key_for_the_suite_0001"
TEST_API_KEY_HASH = hash_api_key(TEST_API_KEY, salt=b"veneer-test-salt")


def all_scopes(settings: Settings) -> list[str]:
    """Every scope some configured route asks for."""
    return AccessTable.from_settings(settings).required_scopes()


def token(
    settings: Settings, *, subject: str = "test-user", scopes: list[str] | None = None
) -> str:
    """A valid bearer token for ``settings`` (every route's scopes unless ``scopes`` is given)."""
    granted = all_scopes(settings) if scopes is None else scopes
    return mint_token(settings, subject=subject, scopes=granted)


def bearer(settings: Settings, **kwargs: object) -> dict[str, str]:
    """An Authorization header carrying :func:`token`."""
    return {"Authorization": f"Bearer {token(settings, **kwargs)}"}  # type: ignore[arg-type]
