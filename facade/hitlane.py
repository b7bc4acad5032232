"""The hit lane: a fresh cached GET answered as soon as its connection has read it.

A cached read that every check lets through needs none of what aiohttp builds for a request
(a task, a request object, a response object, a handler chain), yet those cost more than the
gateway's own work on it. So the connection (:mod:`facade.connection`) shows each complete
request to :meth:`HitLane.answer` before aiohttp sees it. The lane answers only when the
pipeline's answer is already decided and needs no waiting:

- a ``GET`` over HTTP/1.1 that keeps the connection open, with no body, no ``Origin`` (CORS),
  no ``If-None-Match`` (a 304 decision), no ``Expect`` and no control character in any header;
- of a path that resolved to a cached route before, in the generation now serving;
- from a caller whose credential was accepted before (or none, on a public route), with the
  route's scopes;
- whose answer is fresh in this process's memory (a stale one starts a refresh: not here);
- with a token in the caller's in-process bucket (Redis-shared buckets need a round trip).

Everything else, and every request the lane cannot decide, goes on to aiohttp and the pipeline
untouched, so it is answered exactly as it would have been without the lane. Before it takes
any step that changes state (drawing a token, counting the hit), the lane has made every check
that could send the request on, so nothing is counted twice.

What it answers is what the pipeline would: the same status, headers and body, the same access
line, the same request and cache metrics. The tests hold the two to that, request by request,
over every route of the shipped configuration (``tests/integration/gateway/test_hit_lane.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from time import perf_counter
from typing import NamedTuple

from aiohttp import hdrs
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage
from aiohttp.typedefs import RawHeaders

from facade.middlewares.access_log import AccessRecorder, PreparedLine
from facade.middlewares.compression import choose_encoding, compressed, compressible
from facade.middlewares.headers import carries_control_characters
from facade.middlewares.pipeline import Security
from facade.middlewares.request_id import REQUEST_ID_HEADER, request_id_from
from facade.routes.caching import RouteCache, partition_of
from facade.security.access import AccessTable, RouteAccess
from facade.security.authenticator import Authenticator
from facade.security.principal import ANONYMOUS, Principal
from facade.security.ratelimits import limit_key, policy_header, rate_limit_value
from facade.serving import Served, Serving
from resilience import CachedResponse, CachePolicy
from resilience.ratelimit import LocalRateLimiter, RateLimiter, RateLimitPolicy

__all__ = ["HitLane"]

_API_PREFIX = "/api/"
#: request headers that make the pipeline's answer depend on more than a cache hit
_DECIDED_ELSEWHERE = (hdrs.ORIGIN, hdrs.IF_NONE_MATCH, hdrs.EXPECT)
_SERVER = f"Server: {SERVER_SOFTWARE}\r\n"
#: rendered entries remembered; forgotten all at once when full (entries come and go)
_RENDERINGS = 4096
#: request shapes remembered; forgotten all at once when full (a client varying a header, such
#: as a trace id, makes a new shape per request)
_DECISIONS = 4096


class HitLane:
    """Answers fresh cache hits as the pipeline would; says None to everything else."""

    def __init__(self, serving: Serving, security: Security, recorder: AccessRecorder) -> None:
        self.serving = serving
        self.security = security
        self.recorder = recorder
        self._renderings: dict[int, _Rendered] = {}
        self._decided: dict[tuple[str, RawHeaders, str | None], _Decided] = {}
        #: request targets that name no cached route, and the generation that said so
        self._uncached: dict[str, Served] = {}
        #: requests the lane has answered
        self.answered = 0

    def answer(self, message: RawRequestMessage, remote: str | None) -> bytes | None:
        """The whole HTTP answer to ``message`` from a client at ``remote``, or None: the
        pipeline answers it."""
        started = perf_counter()
        if message.method != "GET" or message.version != HttpVersion11:
            return None
        shape = (message.path, message.raw_headers, remote)
        decided = self._decided.get(shape)
        if decided is None or not self._still_holds(decided):
            if self._uncached.get(message.path) is self.serving.current:
                return None  # no cached route: the commonest "no" of all, said at once
            decided = self._decide(message, remote)
            if decided is None:
                return None
            if decided.offered_id is None:  # a client's own request id makes every shape new
                if len(self._decided) >= _DECISIONS:
                    self._decided.clear()
                self._decided[shape] = decided
        cache, policy = decided.cache, decided.policy
        hit = cache.fresh(decided.key, policy)
        if hit is None:
            return None
        entry, age = hit
        rendered = self._rendered(entry)
        if rendered is None:
            return None  # a stored header aiohttp would refuse to send: let it say so
        # Every reason to step aside is behind us but the rate limit, which takes no token
        # when it refuses: from here on the lane answers.
        limit = decided.limit
        if limit is None:
            limit_lines = ""
        else:
            assert isinstance(self.security.limiter, LocalRateLimiter)  # as decided
            decision = self.security.limiter.acquire_now(limit.key, limit.policy)
            if not decision.allowed:
                return None  # refused without taking a token: the pipeline says 429
            limit_lines = (
                f"{limit.policy_line}RateLimit: {rate_limit_value(decision, limit.name)}\r\n"
            )
        age_lines, cache_status = rendered.aged(policy, age)
        body_lines, body = rendered.body_as(decided.coding)
        request_id = request_id_from(decided.offered_id)
        answer = (
            f"{rendered.head}{age_lines}{limit_lines}{body_lines}"
            f"{REQUEST_ID_HEADER}: {request_id}\r\nDate: {rfc822_formatted_time()}\r\n{_SERVER}\r\n"
        ).encode() + body

        cache.on_lookup(decided.route_key, "hit")
        decided.line.record(request_id, entry.status, perf_counter() - started, cache_status)
        self.answered += 1
        return answer

    def _still_holds(self, decided: _Decided) -> bool:
        """Whether what ``decided`` was decided from is still what serves: no reload, no write
        through the gateway since, and a bearer token the verifier still vouches for (it may
        have run out; verified again, it is decided again)."""
        security = self.security
        return (
            decided.served is self.serving.current
            and decided.table is security.table
            and decided.authenticator is security.authenticator
            and decided.limiter is security.limiter
            and decided.writes == decided.cache.writes
            and (
                decided.bearer is None
                or security.authenticator.remembered(decided.bearer, None) is decided.caller
            )
        )

    def _decide(self, message: RawRequestMessage, remote: str | None) -> _Decided | None:
        """What answering ``message`` needs that depends only on its path and header lines and
        on the configuration; None when the pipeline must answer."""
        headers = message.headers
        for name in _DECIDED_ELSEWHERE:
            if name in headers:
                return None
        url = message.url
        if url.absolute or carries_control_characters(message.raw_headers):
            return None
        served = self.serving.current
        found = served.cached_reader(url.path_safe)
        if found is None:
            if served.resolved(url.path_safe):  # else not resolved yet: ask again next time
                if len(self._uncached) >= _DECISIONS:
                    self._uncached.clear()
                self._uncached[message.path] = served
            return None
        handler, template = found
        cache, policy = handler.context.cache, handler.cache_policy
        assert cache is not None and policy is not None  # a cached reader has both
        security = self.security
        table, authenticator, limiter = security.table, security.authenticator, security.limiter
        access = table.for_route(f"GET {template}") if template.startswith(_API_PREFIX) else None
        caller = self._caller(access, headers)
        if caller is None:
            return None
        limit: _Limit | None = None
        if access is not None and access.limit is not None and limiter is not None:
            if not isinstance(limiter, LocalRateLimiter):
                return None  # buckets shared over Redis need a round trip
            limit = _Limit(
                limit_key(caller, access, remote),
                access.limit,
                access.limit_name,
                f"RateLimit-Policy: {policy_header(access.limit_name, access.limit)}\r\n",
            )
        authorization = headers.get(hdrs.AUTHORIZATION)
        client = caller.id if access is not None else "anonymous"
        return _Decided(
            served=served,
            table=table,
            authenticator=authenticator,
            limiter=limiter,
            writes=cache.writes,
            cache=cache,
            policy=policy,
            route_key=handler.compiled.key,
            caller=caller,
            bearer=authorization if caller.kind == "jwt" else None,
            key=cache.key_for(handler, policy, url, headers, partition_of(access, caller)),
            limit=limit,
            coding=choose_encoding(headers.get(hdrs.ACCEPT_ENCODING)),
            offered_id=headers.get(REQUEST_ID_HEADER),
            line=self.recorder.prepared(
                "GET", url.path, template, client, client if access is not None else None
            ),
        )

    def _rendered(self, entry: CachedResponse) -> _Rendered | None:
        """``entry``'s shared part, rendered on its first hit and remembered while it is cached."""
        found = self._renderings.get(id(entry))
        if found is not None and found.entry is entry:
            return found
        rendered = _render(entry)
        if rendered is not None:
            if len(self._renderings) >= _RENDERINGS:
                self._renderings.clear()
            self._renderings[id(entry)] = rendered
        return rendered

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


class _Limit(NamedTuple):
    """The caller's bucket on a route, and the RateLimit-Policy line its answers carry."""

    key: str
    policy: RateLimitPolicy
    name: str
    policy_line: str


class _Decided(NamedTuple):
    """What the lane decided for one shape of request (path, header lines, client address):
    valid while the same generation, security and cache writes stand. Answering such a request
    again needs only the cache entry, a token and the access line."""

    served: Served
    table: AccessTable
    authenticator: Authenticator
    limiter: RateLimiter | None
    writes: int
    cache: RouteCache
    policy: CachePolicy
    route_key: str
    caller: Principal
    #: the bearer token to check again on each answer (it may expire); None for API keys
    bearer: str | None
    key: str
    limit: _Limit | None
    coding: str | None
    offered_id: str | None
    #: the access line, rendered but for what each answer adds
    line: PreparedLine


class _Rendered:
    """What a cached entry's answers share, rendered once and kept while the entry lives: the
    status line and stored headers, the body and its headers per content coding, and the Age
    and Cache-Status lines of the latest second of age asked for."""

    __slots__ = ("_aged", "_bodies", "compressible", "entry", "head")

    def __init__(self, entry: CachedResponse, head: str, compressible: bool) -> None:
        self.entry = entry
        self.head = head
        #: the body is worth compressing, so the answer varies by Accept-Encoding
        self.compressible = compressible
        self._bodies: dict[str | None, tuple[str, bytes]] = {}
        self._aged: tuple[tuple[int, int], str, str] = ((-1, -1), "", "")

    def aged(self, policy: CachePolicy, age: float) -> tuple[str, str]:
        """The Age and Cache-Status lines of an answer ``age`` seconds old, and the status."""
        key = (int(age), int(policy.ttl - age))  # what the two lines show
        known, lines, status = self._aged
        if key != known:
            status = RouteCache.hit_status(policy, age)
            lines = f"Age: {key[0]}\r\nCache-Status: {status}\r\n"
            self._aged = (key, lines, status)
        return lines, status

    def body_as(self, coding: str | None) -> tuple[str, bytes]:
        """The body in ``coding`` (None: as stored) and the header lines that describe it."""
        found = self._bodies.get(coding)
        if found is None:
            lines, body = "", self.entry.body
            if self.compressible:
                lines = "Vary: Accept-Encoding\r\n"
                if coding is not None:
                    lines += f"Content-Encoding: {coding}\r\n"
                    body = compressed(body, coding)
            found = self._bodies[coding] = (f"{lines}Content-Length: {len(body)}\r\n", body)
        return found


def _render(entry: CachedResponse) -> _Rendered | None:
    """The shared part of ``entry``'s answers; None if a stored header value would split."""
    content_type, encoded = "", False
    lines = [f"HTTP/1.1 {entry.status} {HTTPStatus(entry.status).phrase}\r\n"]
    for name, value in entry.headers:
        if "\r" in value or "\n" in value:
            return None
        lowered = name.lower()
        if lowered == "content-type":
            content_type = value.partition(";")[0].strip().lower()
        elif lowered == "content-encoding":
            encoded = True
        lines.append(f"{name}: {value}\r\n")
    return _Rendered(entry, "".join(lines), not encoded and compressible(entry.body, content_type))
