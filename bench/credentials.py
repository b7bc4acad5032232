"""The credential every benchmark request carries, and the rate limit it must not run into.

The gateway guards every /api route, so a run sends an API key on every request, peers and bare
included (the same request bytes everywhere, and the gateway pays for checking it: "all
middlewares on"). The shipped config trusts the public demo key; ``VENEER_BENCH_API_KEY``
replaces it for a configuration that does not. Sixty-four connections from one caller would
also drain any sane token bucket in milliseconds, so the gateways run with the limit raised
through the documented ``VENEER_RATE_LIMIT_*`` variables: the limiter still runs, it just never
says no.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

__all__ = ["API_KEY_HEADER", "RATE_LIMIT_ENV", "client_headers", "get"]

API_KEY_HEADER = "X-API-Key"  # auth.api_keys.header in config/gateway.yaml
RATE_LIMIT_ENV = {"VENEER_RATE_LIMIT_RATE": "1000000", "VENEER_RATE_LIMIT_BURST": "1000000"}


def client_headers() -> dict[str, str]:
    key = os.environ.get("VENEER_BENCH_API_KEY")
    if not key:
        from facade.security import DEMO_API_KEY  # the public demo key the shipped config trusts

        key = DEMO_API_KEY
    return {API_KEY_HEADER: key}


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """One GET with the credential: (status, body), error statuses included, never raised."""
    request = urllib.request.Request(url, headers=client_headers())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
