"""What the connection's two lanes share: which requests they may take, and who is asking.

The hit lane (:mod:`facade.hitlane`) answers fresh cache hits and the call lane
(:mod:`facade.calllane`) uncached reads, both without aiohttp's request objects. Each takes a
request only when the pipeline's answer would not depend on anything but the route, the caller
and the backend: a plain ``GET`` over HTTP/1.1 with no CORS, no conditional, no ``Expect`` and
no control character in a header, from a caller whose credential was accepted before and who
holds the route's scopes. What they decide for one shape of request (its target, header lines
and client address) rests on :class:`Grounds`, which hold while the same generation, access
table, authenticator and limiter serve, and a bearer token's verifier still vouches for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from aiohttp import hdrs
from aiohttp.http import RawRequestMessage

from facade.middlewares.access_log import AccessRecorder
from facade.middlewares.headers import carries_control_characters
from facade.middlewares.pipeline import Security
from facade.security.access import AccessTable, RouteAccess
from facade.security.authenticator import Authenticator
from facade.security.principal import ANONYMOUS, Principal
from facade.security.ratelimits import limit_key, policy_header, rate_limit_value
from facade.serving import Served, Serving
from resilience.ratelimit import LocalRateLimiter, RateLimiter, RateLimitPolicy

__all__ = ["API_PREFIX", "DECISIONS", "Grounds", "Lane", "Limit"]

API_PREFIX = "/api/"
#: request headers that make the pipeline's answer depend on more than the route and caller
_DECIDED_ELSEWHERE = (hdrs.ORIGIN, hdrs.IF_NONE_MATCH, hdrs.EXPECT)
#: request shapes a lane remembers; forgotten all at once when full (a client varying a header,
#: such as a trace id, makes a new shape per request)
DECISIONS = 4096


class Limit(NamedTuple):
    """The caller's bucket on a route, and the RateLimit-Policy line its answers carry."""

    key: str
    policy: RateLimitPolicy
    name: str
    policy_line: str


class Grounds(NamedTuple):
    """What a lane's decision for one shape of request rests on, and who the caller is."""

    served: Served
    table: AccessTable
    authenticator: Authenticator
    limiter: RateLimiter | None
    access: RouteAccess | None
    caller: Principal
    #: the bearer token to check again on each answer (it may expire); None for API keys
    bearer: str | None
    limit: Limit | None
    #: the access line's ``client`` field, and its ``caller`` (None: the line has none)
    client: str
    line_caller: str | None


class Lane:
    """The checks both lanes make before they take a request (see the module's docstring)."""

    def __init__(self, serving: Serving, security: Security, recorder: AccessRecorder) -> None:
        self.serving = serving
        self.security = security
        self.recorder = recorder

    @staticmethod
    def plain(message: RawRequestMessage) -> bool:
        """Whether the pipeline would answer ``message``, a GET over HTTP/1.1, from its route
        and caller alone: no CORS, conditional or ``Expect``, no control character in a header
        (looked at once per request shape)."""
        headers = message.headers
        for name in _DECIDED_ELSEWHERE:
            if name in headers:
                return False
        return not message.url.absolute and not carries_control_characters(message.raw_headers)

    def holds(self, grounds: Grounds) -> bool:
        """Whether what ``grounds`` were decided from is still what serves: no reload, and a
        bearer token the verifier still vouches for (it may have run out; verified again, it
        is decided again)."""
        security = self.security
        return (
            grounds.served is self.serving.current
            and grounds.table is security.table
            and grounds.authenticator is security.authenticator
            and grounds.limiter is security.limiter
            and (
                grounds.bearer is None
                or security.authenticator.remembered(grounds.bearer, None) is grounds.caller
            )
        )

    def grounds(
        self, served: Served, template: str, message: RawRequestMessage, remote: str | None
    ) -> Grounds | None:
        """Who calls ``template`` (a GET route's path as configured) and their bucket, as the
        pipeline's authentication and rate limit would find; None when only it can say."""
        security = self.security
        table, authenticator, limiter = security.table, security.authenticator, security.limiter
        access = table.for_route(f"GET {template}") if template.startswith(API_PREFIX) else None
        headers = message.headers
        caller = self._caller(access, headers)
        if caller is None:
            return None
        limit: Limit | None = None
        if access is not None and access.limit is not None and limiter is not None:
            if not isinstance(limiter, LocalRateLimiter):
                return None  # buckets shared over Redis need a round trip
            limit = Limit(
                limit_key(caller, access, remote),
                access.limit,
                access.limit_name,
                f"RateLimit-Policy: {policy_header(access.limit_name, access.limit)}\r\n",
            )
        authorization = headers.get(hdrs.AUTHORIZATION)
        client = caller.id if access is not None else "anonymous"
        return Grounds(
            served=served,
            table=table,
            authenticator=authenticator,
            limiter=limiter,
            access=access,
            caller=caller,
            bearer=authorization if caller.kind == "jwt" else None,
            limit=limit,
            client=client,
            line_caller=client if access is not None else None,
        )

    def draw(self, limit: Limit | None) -> str | None:
        """A token from the caller's bucket: the answer's RateLimit lines ("" when the route
        is not limited), or None when the bucket is empty (no token taken: the pipeline then
        says 429)."""
        if limit is None:
            return ""
        limiter = self.security.limiter
        assert isinstance(limiter, LocalRateLimiter)  # as the grounds were decided
        decision = limiter.acquire_now(limit.key, limit.policy)
        if not decision.allowed:
            return None
        return f"{limit.policy_line}RateLimit: {rate_limit_value(decision, limit.name)}\r\n"

    def _caller(self, access: RouteAccess | None, headers: Mapping[str, str]) -> Principal | None:
        """Who calls, as the pipeline's authentication would find (ANONYMOUS outside /api and
        on a public route without a credential); None when only the pipeline can say."""
        if access is None:
            return ANONYMOUS
        authenticator = self.security.authenticator
        authorization = headers.get(hdrs.AUTHORIZATION)
        api_key = headers.get(authenticator.api_key_header)
        if authorization is None and api_key is None:
            return ANONYMOUS if access.public else None  # else a 401
        principal = authenticator.remembered(authorization, api_key)
        if principal is None or access.public or principal.allows(access.scopes):
            return principal  # None: a credential to verify (or refuse)
        return None  # a 403
