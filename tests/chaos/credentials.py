"""Who the chaos suite's client is: one caller with a bearer token the test gateway trusts.

The gateway under test gets a JWT secret, issuer and audience of the suite's own (through the
``${VENEER_JWT_*}`` references in the shipped configuration), so the suite mints a token with
every scope its requests need, exactly as an identity provider would. Rate limits are raised far
above the load the suite drives: what is under test here is resilience, not the limiter, and a
429 must never be mistaken for (or hide) a degraded answer.

Every request comes from this one caller, so the gateway's per-caller cache keys and
single-flight treat them as one client's, as the tests assume.
"""

from __future__ import annotations

import secrets
import time

import jwt

__all__ = ["CALLER", "OPS_TOKEN", "authorization_header", "gateway_env"]

CALLER = "chaos-suite"
_SECRET = f"chaos-suite-{secrets.token_hex(16)}"
_ISSUER = "veneer-chaos"
_AUDIENCE = "veneer-chaos"
#: reads and writes of orders, stock reads (``/api/v1/products/...``); operations need no scope
_SCOPES = ("orders:read", "orders:write", "products:read")
_UNLIMITED = "1000000"
#: the ops admin credential of the test gateway (breaker control, reloads)
OPS_TOKEN = f"chaos-ops-{secrets.token_hex(16)}"


def gateway_env() -> dict[str, str]:
    """Environment for the gateway process: trust the suite's tokens, do not rate-limit it."""
    return {
        "VENEER_JWT_SECRET": _SECRET,
        "VENEER_JWT_ISSUER": _ISSUER,
        "VENEER_JWT_AUDIENCE": _AUDIENCE,
        "VENEER_RATE_LIMIT_RATE": _UNLIMITED,
        "VENEER_RATE_LIMIT_BURST": _UNLIMITED,
        "VENEER_OPS_TOKEN": OPS_TOKEN,
    }


def authorization_header(lifetime_s: int = 3600) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": _ISSUER,
        "aud": _AUDIENCE,
        "sub": CALLER,
        "scope": " ".join(_SCOPES),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_s,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, _SECRET, algorithm='HS256')}"}
