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

from http import HTTPStatus
from time import perf_counter
from typing import Any

from aiohttp import hdrs
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage

from facade.middlewares.access_log import AccessRecorder
from facade.middlewares.compression import choose_encoding, compressed, compressible
from facade.middlewares.headers import carries_control_characters
from facade.middlewares.pipeline import Security
from facade.middlewares.request_id import REQUEST_ID_HEADER, request_id_from
from facade.routes.caching import partition_of
from facade.security.principal import ANONYMOUS
from facade.security.ratelimits import limit_key, rate_limit_headers
from facade.serving import Serving
from resilience.ratelimit import LocalRateLimiter

__all__ = ["HitLane"]

_API_PREFIX = "/api/"
#: request headers that make the pipeline's answer depend on more than a cache hit
_DECIDED_ELSEWHERE = (hdrs.ORIGIN, hdrs.IF_NONE_MATCH, hdrs.EXPECT)
_SERVER = f"Server: {SERVER_SOFTWARE}\r\n"


class HitLane:
    """Answers fresh cache hits as the pipeline would; says None to everything else."""

    def __init__(self, serving: Serving, security: Security, recorder: AccessRecorder) -> None:
        self.serving = serving
        self.security = security
        self.recorder = recorder

    def answer(self, message: RawRequestMessage, remote: str | None) -> bytes | None:
        """The whole HTTP answer to ``message`` from a client at ``remote``, or None: the
        pipeline answers it."""
        started = perf_counter()
        if message.method != "GET" or message.version != HttpVersion11:
            return None
        headers = message.headers
        for name in _DECIDED_ELSEWHERE:
            if name in headers:
                return None
        url = message.url
        if url.absolute or carries_control_characters(message.raw_headers):
            return None
        found = self.serving.current.cached_reader(url.path_safe)
        if found is None:
            return None
        handler, template = found
        cache, policy = handler.context.cache, handler.cache_policy
        assert cache is not None and policy is not None  # a cached reader has both

        security = self.security
        access = (
            security.table.for_route(f"GET {template}")
            if template.startswith(_API_PREFIX)
            else None
        )
        principal = None
        if access is not None:
            authorization = headers.get(hdrs.AUTHORIZATION)
            api_key = headers.get(security.authenticator.api_key_header)
            if authorization is None and api_key is None:
                principal = ANONYMOUS if access.public else None
            else:
                principal = security.authenticator.remembered(authorization, api_key)
            if principal is None:
                return None  # a credential to verify, or a 401
            if not access.public and not principal.allows(access.scopes):
                return None  # a 403
        caller = principal if principal is not None else ANONYMOUS

        key = cache.key_for(handler, policy, url, headers, partition_of(access, caller))
        hit = cache.fresh(key, policy)
        if hit is None:
            return None
        entry, age = hit
        stored = entry.headers
        if any("\r" in value or "\n" in value for _, value in stored):
            return None  # aiohttp refuses to send such a header: let it say so
        head = [f"{name}: {value}\r\n" for name, value in stored]
        cache_status = cache.hit_status(policy, age)
        head.append(f"Age: {int(age)}\r\nCache-Status: {cache_status}\r\n")

        limiter = security.limiter
        if access is not None and access.limit is not None and limiter is not None:
            if not isinstance(limiter, LocalRateLimiter):
                return None  # shared buckets are a network round trip away
            decision = limiter.acquire_now(limit_key(caller, access, remote), access.limit)
            if not decision.allowed:
                return None  # a 429, refused without taking a token: the pipeline says it
            head.extend(
                f"{name}: {value}\r\n"
                for name, value in rate_limit_headers(decision, access.limit_name).items()
            )
        body = _encode(stored, entry.body, headers.get(hdrs.ACCEPT_ENCODING), head)
        request_id = request_id_from(headers.get(REQUEST_ID_HEADER))
        head.append(
            f"{REQUEST_ID_HEADER}: {request_id}\r\nContent-Length: {len(body)}\r\n"
            f"Date: {rfc822_formatted_time()}\r\n{_SERVER}\r\n"
        )
        status = entry.status
        answer = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{''.join(head)}".encode() + body

        cache.on_lookup(handler.compiled.key, "hit")
        context: dict[str, Any] = {"request_id": request_id}
        if access is not None:
            context["caller"] = caller.id
        self.recorder.record_fields(
            "GET",
            url.path,
            template,
            status,
            perf_counter() - started,
            [],
            cache_status,
            caller.id if access is not None else "anonymous",
            context,
        )
        return answer


def _encode(
    stored: tuple[tuple[str, str], ...], body: bytes, accepted: str | None, head: list[str]
) -> bytes:
    """``body`` as the pipeline's compression sends it, with the headers that adds to ``head``."""
    content_type = ""
    for name, value in stored:
        lowered = name.lower()
        if lowered == "content-encoding":
            return body
        if lowered == "content-type":
            content_type = value.partition(";")[0].strip().lower()
    if not compressible(body, content_type):
        return body
    head.append("Vary: Accept-Encoding\r\n")
    coding = choose_encoding(accepted)
    if coding is None:
        return body
    head.append(f"Content-Encoding: {coding}\r\n")
    return compressed(body, coding)
