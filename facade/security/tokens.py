"""Bearer JWTs, verified locally with PyJWT: signature, algorithm, issuer, audience, time.

The order matters. The token's ``alg`` is read first (unverified) only to *choose* the key, and
must be one the configuration accepts (``none`` never is); HS* algorithms get the shared secret
and nothing else, the others a JWKS key pinned to its type (:mod:`facade.security.jwks`); and
PyJWT is then told to accept that one algorithm only. So neither ``alg: none`` nor the classic
confusion (an RS256 public key used as an HS256 secret) can get through, whatever the token says.
``exp`` is required; ``iss``, ``aud``, ``nbf`` are checked with the configured leeway.

Verified tokens are remembered (bounded, at most a minute, never past their ``exp``), so a
mobile client's hundredth request with the same token costs a dictionary lookup, not a signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidTokenError,
    MissingRequiredClaimError,
)

from facade.security.errors import Unauthenticated
from facade.security.jwks import JwksSource
from facade.security.principal import Principal
from facade.settings import Jwt
from facade.settings.security_model import HMAC_ALGORITHMS

__all__ = ["REMEMBER_S", "JwtVerifier", "scopes_of"]

_MAX_TOKEN = 8192
#: seconds a verified token is believed without verifying it again (never past its expiry)
REMEMBER_S = 60.0
_REMEMBERED = 4096


def scopes_of(claims: dict[str, Any], claim: str) -> frozenset[str]:
    """Scopes from ``claim`` (RFC 9068: space-separated) or ``scp`` (a list, Azure/Okta)."""
    value = claims.get(claim, claims.get("scp"))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    return frozenset()


def _reason(exc: InvalidTokenError) -> str:
    if isinstance(exc, ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, ImmatureSignatureError):
        return "the token is not valid yet"
    if isinstance(exc, InvalidAudienceError):
        return "the token is not meant for this API (audience)"
    if isinstance(exc, InvalidIssuerError):
        return "the token's issuer is not trusted"
    if isinstance(exc, MissingRequiredClaimError):
        return f"the token lacks the {exc.claim!r} claim"
    return "the token's signature or format is invalid"


class JwtVerifier:
    def __init__(
        self, config: Jwt, keys: JwksSource | None, *, now: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.keys = keys
        self._now = now
        self._secret = config.secret.reveal().encode() if config.secret is not None else None
        self._accepted = frozenset(config.algorithms)
        self._remembered: dict[str, tuple[Principal, float]] = {}

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token ``verify`` accepted before and still in date; None otherwise."""
        remembered = self._remembered.get(token)
        if remembered is not None and self._now() < remembered[1]:
            return remembered[0]
        return None

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` proves; raise :class:`Unauthenticated` otherwise."""
        remembered = self._remembered.get(token)
        if remembered is not None:
            principal, until = remembered
            if self._now() < until:
                return principal
            del self._remembered[token]
        if len(token) > _MAX_TOKEN:
            raise Unauthenticated("the token is too long", token_presented=True)
        try:
            header = jwt.get_unverified_header(token)
        except (InvalidTokenError, RecursionError, ValueError) as exc:  # a nested-JSON bomb too
            raise Unauthenticated("the token is not a JWT", token_presented=True) from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._accepted:
            raise Unauthenticated(  # the alg is the caller's text: never echoed
                "the token's signing algorithm is not accepted", token_presented=True
            )
        key = await self._key(alg, header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except InvalidTokenError as exc:
            raise Unauthenticated(_reason(exc), token_presented=True) from exc
        subject = claims.get(self.config.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(
                f"the token lacks the {self.config.subject_claim!r} claim", token_presented=True
            )
        principal = Principal(subject, "jwt", scopes_of(claims, self.config.scope_claim))
        self._remember(token, principal, float(claims["exp"]))
        return principal

    async def _key(self, alg: str, kid: object) -> Any:
        if alg in HMAC_ALGORITHMS:
            assert self._secret is not None  # the configuration guarantees it
            return self._secret
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("the token's kid is malformed", token_presented=True)
        key = await self.keys.key(kid, alg) if self.keys is not None else None
        if key is None:
            raise Unauthenticated("no trusted key matches the token", token_presented=True)
        return key

    def _remember(self, token: str, principal: Principal, exp: float) -> None:
        if len(self._remembered) >= _REMEMBERED:
            self._remembered.clear()
        until = min(self._now() + REMEMBER_S, exp + self.config.leeway)
        self._remembered[token] = (principal, until)
