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
from typing import NamedTuple

from aiohttp import hdrs
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage
from aiohttp.typedefs import RawHeaders

from facade.lanes import DECISIONS, Grounds, Lane
from facade.middlewares.access_log import AccessRecorder, PreparedLine
from facade.middlewares.compression import choose_encoding, compressed, compressible
from facade.middlewares.pipeline import Security
from facade.middlewares.request_id import REQUEST_ID_HEADER, request_id_from
from facade.routes.caching import RouteCache, partition_of
from facade.serving import Served, Serving
from resilience import CachedResponse, CachePolicy

__all__ = ["HitLane"]

_SERVER = f"Server: {SERVER_SOFTWARE}\r\n"
#: rendered entries remembered; forgotten all at once when full (entries come and go)
_RENDERINGS = 4096


class HitLane(Lane):
    """Answers fresh cache hits as the pipeline would; says None to everything else."""

    def __init__(self, serving: Serving, security: Security, recorder: AccessRecorder) -> None:
        super().__init__(serving, security, recorder)
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
                if len(self._decided) >= DECISIONS:
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
        limit_lines = self.draw(decided.grounds.limit)
        if limit_lines is None:
            return None  # refused without taking a token: the pipeline says 429
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
        """Whether ``decided``'s grounds hold and no write went through the gateway since."""
        return decided.writes == decided.cache.writes and self.holds(decided.grounds)

    def _decide(self, message: RawRequestMessage, remote: str | None) -> _Decided | None:
        """What answering ``message`` needs that depends only on its path and header lines and
        on the configuration; None when the pipeline must answer."""
        if not self.plain(message):
            return None
        url = message.url
        served = self.serving.current
        found = served.cached_reader(url.path_safe)
        if found is None:
            if served.resolved(url.path_safe):  # else not resolved yet: ask again next time
                if len(self._uncached) >= DECISIONS:
                    self._uncached.clear()
                self._uncached[message.path] = served
            return None
        handler, template = found
        cache, policy = handler.context.cache, handler.cache_policy
        assert cache is not None and policy is not None  # a cached reader has both
        grounds = self.grounds(served, template, message, remote)
        if grounds is None:
            return None
        headers = message.headers
        return _Decided(
            grounds=grounds,
            writes=cache.writes,
            cache=cache,
            policy=policy,
            route_key=handler.compiled.key,
            key=cache.key_for(
                handler, policy, url, headers, partition_of(grounds.access, grounds.caller)
            ),
            coding=choose_encoding(headers.get(hdrs.ACCEPT_ENCODING)),
            offered_id=headers.get(REQUEST_ID_HEADER),
            line=self.recorder.prepared(
                "GET", url.path, template, grounds.client, grounds.line_caller
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


class _Decided(NamedTuple):
    """What the lane decided for one shape of request (path, header lines, client address):
    valid while its grounds hold and no write went through the gateway. Answering such a
    request again needs only the cache entry, a token and the access line."""

    grounds: Grounds
    writes: int
    cache: RouteCache
    policy: CachePolicy
    route_key: str
    key: str
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
