"""Turn a request's credential into a principal: a bearer JWT or an API key, never both.

``authenticate`` returns None when no credential was presented (whether that is acceptable is
the route's business) and raises :class:`Unauthenticated` when one was presented and failed,
even on a public route: a client sending a broken credential should hear so, not be silently
served as anonymous.
"""

from __future__ import annotations

from aiohttp import web

from facade.security.apikeys import ApiKeyRegistry
from facade.security.errors import Unauthenticated
from facade.security.principal import Principal
from facade.security.tokens import JwtVerifier

__all__ = ["Authenticator"]


class Authenticator:
    def __init__(
        self, *, jwt: JwtVerifier | None, api_keys: ApiKeyRegistry, api_key_header: str
    ) -> None:
        self.jwt = jwt
        self.api_keys = api_keys
        self.api_key_header = api_key_header

    async def authenticate(self, request: web.Request) -> Principal | None:
        authorization = request.headers.get("Authorization")
        api_key = request.headers.get(self.api_key_header)
        if authorization is not None and api_key is not None:
            raise Unauthenticated("send one credential, not both a token and an API key")
        if authorization is not None:
            return await self._bearer(authorization)
        if api_key is not None:
            principal = self.api_keys.identify(api_key.strip())
            if principal is None:
                raise Unauthenticated("the API key is not valid")
            return principal
        return None

    def remembered(self, authorization: str | None, api_key: str | None) -> Principal | None:
        """The principal ``authenticate`` would return for these credentials when it accepted
        them before, found without verifying anything again; None for no credential, both kinds,
        or one not accepted yet (``authenticate`` decides those)."""
        if authorization is not None:
            if api_key is not None or self.jwt is None:
                return None
            scheme, _, token = authorization.strip().partition(" ")
            return self.jwt.remembered(token.strip()) if scheme.lower() == "bearer" else None
        return self.api_keys.known(api_key.strip()) if api_key is not None else None

    async def _bearer(self, authorization: str) -> Principal:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <token>")
        if self.jwt is None:
            raise Unauthenticated("this gateway accepts no bearer tokens; use an API key")
        return await self.jwt.verify(token.strip())
