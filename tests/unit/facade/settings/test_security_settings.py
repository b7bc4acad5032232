"""The auth, rate_limit and ops sections: validated at load with errors that say what is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from facade.settings import ConfigError, Settings, load_settings

SECRET = "a-secret-that-is-at-least-32-bytes-long"


def load(tmp_path: Path, text: str, **environ: str) -> Settings:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(text))
    return load_settings(path, environ=environ)


def errors(tmp_path: Path, text: str, **environ: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, **environ)
    return info.value.report()


def test_defaults_authenticate_every_route_and_limit_rates(tmp_path: Path) -> None:
    """With no auth section, auth is on (no credential configured yet), rate limits are on."""
    settings = load(tmp_path, "{}")
    assert settings.auth.enabled and settings.auth.jwt is None
    assert settings.rate_limit.enabled and settings.rate_limit.redis_url is None
    assert settings.ops.admin_token is None and not settings.ops.public_read


def test_a_literal_jwt_secret_is_refused(tmp_path: Path) -> None:
    """The JWT secret, like any secret, must come from the environment or a file."""
    report = errors(
        tmp_path,
        f"auth: {{jwt: {{issuer: i, audience: a, algorithms: [HS256], secret: {SECRET}}}}}",
    )
    assert "auth.jwt.secret: secrets never live in config files" in report


@pytest.mark.parametrize(
    ("jwt", "complaint"),
    [
        ("{issuer: i, audience: a, algorithms: [HS256]}", "HS* algorithms need `secret`"),
        ("{issuer: i, audience: a, algorithms: [RS256]}", "need `jwks_file` or `jwks_url`"),
        ("{issuer: i, audience: a, algorithms: [HS256], secret: '${S}', jwks_url: 'https://x/j'}", "no RS*/PS*/ES*/EdDSA"),
        ("{issuer: i, audience: a, algorithms: [], secret: '${S}'}", "at least one algorithm"),
        ("{issuer: i, audience: a, algorithms: [none], secret: '${S}'}", "not an allowed value"),
        ("{audience: a, algorithms: [HS256], secret: '${S}'}", "issuer: missing required field"),
    ],
)  # fmt: skip
def test_inconsistent_jwt_settings_are_refused(tmp_path: Path, jwt: str, complaint: str) -> None:
    """Algorithms without their keys, keys without algorithms, `none`, or no issuer: all errors."""
    assert complaint in errors(tmp_path, f"auth: {{jwt: {jwt}}}", S=SECRET)


def test_a_short_hmac_secret_is_refused(tmp_path: Path) -> None:
    """An HS256 secret shorter than 32 bytes is a configuration error."""
    text = "auth: {jwt: {issuer: i, audience: a, algorithms: [HS256], secret: '${S}'}}"
    assert "at least 32 bytes" in errors(tmp_path, text, S="short")


def test_a_secret_may_come_from_a_file(tmp_path: Path) -> None:
    """`{file: path}` reads the secret from a file next to the config (trailing newline dropped)."""
    (tmp_path / "jwt.secret").write_text(SECRET + "\n")
    settings = load(
        tmp_path,
        "auth: {jwt: {issuer: i, audience: a, algorithms: [HS256], secret: {file: jwt.secret}}}",
    )
    assert settings.auth.jwt is not None and settings.auth.jwt.secret is not None
    assert settings.auth.jwt.secret.reveal() == SECRET


def test_a_missing_secret_file_is_reported_without_its_content(tmp_path: Path) -> None:
    """An unreadable secret file is an error naming the file."""
    report = errors(tmp_path, "ops: {admin_token: {file: nope.txt}}")
    assert "ops.admin_token.file: cannot read the secret file 'nope.txt'" in report


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("auth: {api_keys: {clients: {a: {hash: plaintext-key}}}}", "sha256:<32 hex salt>"),
        ("auth: {api_keys: {header: Authorization}}", "cannot be Authorization"),
        ("routes: {GET /api/v1/x: {backend: b, operation: o, public: true, scopes: [x:read]}}", "public route needs no scopes"),
        ("rate_limit: {rate: 0}", "out of range"),
        ("rate_limit: {redis_url: 'http://redis'}", "a redis://, rediss:// or unix:// URL"),
        ("api: {max_string_length: 1}", "out of range"),
    ],
)  # fmt: skip
def test_other_security_settings_are_checked(tmp_path: Path, text: str, complaint: str) -> None:
    """Plain keys instead of hashes, a clashing header, scopes on a public route, bad limits."""
    assert complaint in errors(tmp_path, text)


def test_the_shipped_config_trusts_only_demo_credentials(repo_root: Path) -> None:
    """config/gateway.yaml has JWT and API key auth, and its secrets come from the environment."""
    settings = load_settings(repo_root / "config" / "gateway.yaml", environ={})
    assert settings.auth.jwt is not None and settings.auth.jwt.algorithms == ("HS256",)
    assert "demo" in settings.auth.api_keys.clients
    override = load_settings(
        repo_root / "config" / "gateway.yaml", environ={"VENEER_JWT_SECRET": "y" * 40}
    )
    assert override.auth.jwt is not None and override.auth.jwt.secret is not None
    assert override.auth.jwt.secret.reveal() == "y" * 40
