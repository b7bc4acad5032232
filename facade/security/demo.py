"""Ready-to-use credentials for the demo, and a warning whenever they guard a real gateway.

The shipped config/gateway.yaml trusts three well-known demo credentials so `make run` works at
once: the JWT secret default (``${VENEER_JWT_SECRET:-...}``), the API key whose hash is listed
under ``auth.api_keys.clients.demo``, and the ops token default. They are printed in the README,
so anyone can use them: :func:`demo_warnings` names each one still trusted, and the gateway logs
it at startup until the operator replaces them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from facade.security.apikeys import verify_api_key
from facade.settings import Settings

__all__ = [
    "DEMO_API_KEY",
    "DEMO_JWT_SECRET",
    "DEMO_OPS_TOKEN",
    "DemoCredentials",
    "demo_credentials",
    "demo_warnings",
    "mint_token",
]

DEMO_API_KEY = "vk_demo_sandbox_key_0001_not_for_production"
DEMO_JWT_SECRET = "veneer-demo-jwt-secret-not-for-production"
DEMO_OPS_TOKEN = "veneer-demo-ops-token-not-for-production"
_DAY = 24 * 3600


@dataclass(frozen=True)
class DemoCredentials:
    token: str | None
    token_scopes: tuple[str, ...]
    api_key: str | None
    api_key_client: str | None
    api_key_scopes: tuple[str, ...]
    ops_token: str | None

    def exports(self) -> list[str]:
        """Shell lines a reader can paste (or source) to use them."""
        lines = []
        if self.token:
            lines.append(f"export TOKEN={self.token}")
        if self.api_key:
            lines.append(f"export API_KEY={self.api_key}")
        if self.ops_token:
            lines.append(f"export OPS_TOKEN={self.ops_token}")
        return lines


def mint_token(
    settings: Settings,
    *,
    subject: str,
    scopes: list[str] | tuple[str, ...],
    lifetime_s: float = _DAY,
    now: float | None = None,
) -> str:
    """An HS256 token the configured gateway accepts (needs ``auth.jwt.secret``)."""
    config = settings.auth.jwt
    if config is None or config.secret is None:
        raise ValueError("minting a token needs auth.jwt with an HS* secret")
    algorithm = next(a for a in config.algorithms if a.startswith("HS"))
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": config.issuer,
        "aud": config.audience,
        config.subject_claim: subject,
        "scope": " ".join(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime_s),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, config.secret.reveal(), algorithm=algorithm)


def _demo_client(settings: Settings) -> tuple[str, tuple[str, ...]] | None:
    for name, client in settings.auth.api_keys.clients.items():
        if verify_api_key(DEMO_API_KEY, client.hash):
            return name, client.scopes
    return None


def demo_credentials(settings: Settings, scopes: list[str]) -> DemoCredentials:
    """What `veneer demo` prints: a 24-hour token with ``scopes``, the demo key, the ops token."""
    config = settings.auth.jwt
    token = None
    if config is not None and config.secret is not None:
        token = mint_token(settings, subject="demo-user", scopes=scopes)
    client = _demo_client(settings)
    admin = settings.ops.admin_token
    return DemoCredentials(
        token=token,
        token_scopes=tuple(scopes),
        api_key=DEMO_API_KEY if client else None,
        api_key_client=client[0] if client else None,
        api_key_scopes=client[1] if client else (),
        ops_token=DEMO_OPS_TOKEN
        if admin is not None and admin.reveal() == DEMO_OPS_TOKEN
        else None,
    )


def demo_warnings(settings: Settings) -> list[str]:
    """The well-known demo credentials this configuration still trusts."""
    found = []
    config = settings.auth.jwt
    if (
        config is not None
        and config.secret is not None
        and config.secret.reveal() == DEMO_JWT_SECRET
    ):
        found.append("auth.jwt.secret is the public demo secret: set VENEER_JWT_SECRET")
    client = _demo_client(settings)
    if client is not None:
        found.append(f"auth.api_keys.clients.{client[0]} accepts the public demo API key")
    for name in ("admin_token", "read_token"):
        token = getattr(settings.ops, name)
        if token is not None and token.reveal() == DEMO_OPS_TOKEN:
            found.append(f"ops.{name} is the public demo token: set VENEER_OPS_TOKEN")
    if not settings.auth.enabled:
        found.append("auth.enabled is false: every route is public")
    return found
