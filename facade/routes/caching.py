"""Degraded reads: serve the last good answer while a backend is slow to refresh or down.

For a GET route with a cache policy:

- **fresh** (age ≤ ttl): answered from the cache, the backend is not called;
- **stale, revalidating** (within ``stale_while_revalidate``): answered from the cache at once,
  and one background call refreshes it; a refresh that fails is not tried again for that key
  before the backend's ``Retry-After`` (an open breaker's remaining time) or a second, so a
  backend that is down costs one failed refresh per pause, not one per request;
- **miss or expired**: concurrent identical requests make one backend call (single-flight);
- **backend failure**: within ``stale_if_error`` the stale answer is served instead of the error.

A stale answer says so three ways: ``Age``, an RFC 9211 ``Cache-Status`` entry, and
``Veneer-Stale: true`` (the one header a mobile app needs to test). Errors and partial
aggregates are never stored. Keys include everything that makes an answer differ: the route, the
path and query, the caller, and the route's ``vary`` headers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from yarl import URL

from facade.middlewares.keys import ACCESS, PRINCIPAL
from facade.problems import Problem
from facade.routes.handler import Answer, conditional
from facade.security.access import RouteAccess
from facade.security.principal import ANONYMOUS, Principal
from resilience import (
    CachedResponse,
    CachePolicy,
    Clock,
    Freshness,
    ResponseCache,
    SingleFlight,
    retention,
)

if TYPE_CHECKING:
    from facade.routes.handler import RouteHandler

__all__ = ["STALE_HEADER", "RouteCache", "caller_partition", "partition_of"]

log = structlog.get_logger("veneer.cache")
STALE_HEADER = "Veneer-Stale"
_CACHE_NAME = "veneer"
#: After a failed background refresh, how long (s) its key waits before another one when the
#: failure gave no Retry-After, and the most any Retry-After can make it wait.
REFRESH_PAUSE_S = 1.0
MAX_REFRESH_PAUSE_S = 30.0
_MAX_PAUSED_KEYS = 4096


def caller_partition(request: web.Request) -> str:
    """Whose cached answers a request may see: its caller's own, or everyone's on a public route.

    Callers are kept apart even where they would see the same data today: a route's answer may
    come to depend on who asks (a header, a future per-caller backend credential), and a cache
    that crosses callers would then leak silently.
    """
    return partition_of(request.get(ACCESS), request.get(PRINCIPAL, ANONYMOUS))


def partition_of(access: RouteAccess | None, principal: Principal) -> str:
    """:func:`caller_partition` of a request with this access rule and principal."""
    if access is not None and access.public:
        return "public"
    return principal.id


class RouteCache:
    def __init__(
        self,
        cache: ResponseCache,
        clock: Clock,
        on_lookup: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cache = cache
        self.clock = clock
        #: told (route, "hit" | "stale" | "miss") for every cached GET, for metrics
        self.on_lookup = on_lookup or (lambda route, result: None)
        self.flights: SingleFlight[str, Answer] = SingleFlight()
        self._background: set[asyncio.Task[None]] = set()
        # A write through the gateway bumps the generation of its path and of the collection
        # above it, so every cached variant of what it changed misses from then on (this
        # process only; other replicas converge within the route's ttl).
        self._generations: dict[str, int] = {}
        #: writes counted so far: a key built before the last one may be out of date
        self.writes = 0
        # key → monotonic time before which no background refresh of it starts (after a failure)
        self._refresh_paused: dict[str, float] = {}

    def key(
        self, request: web.Request, handler: RouteHandler, policy: CachePolicy, caller: str
    ) -> str:
        return self.key_for(handler, policy, request.rel_url, request.headers, caller)

    def key_for(
        self,
        handler: RouteHandler,
        policy: CachePolicy,
        url: URL,
        headers: Mapping[str, str],
        caller: str,
    ) -> str:
        """The key of a request for ``url`` (relative, as ``request.rel_url``) with ``headers``."""
        query = (
            "&".join(f"{k}={v}" for k, v in sorted(url.query.items())) if url.query_string else ""
        )
        vary = (
            "&".join(f"{h.lower()}={headers.get(h, '')}" for h in sorted(policy.vary))
            if policy.vary
            else ""
        )
        path = url.path
        generation = self._generations.get(path, 0)
        route = f"{handler.compiled.key}\0{handler.compiled.fingerprint}"
        raw = f"{route}\0{path}\0{query}\0{vary}\0{caller}\0{generation}"
        return hashlib.sha256(raw.encode()).hexdigest()

    def fresh(self, key: str, policy: CachePolicy) -> tuple[CachedResponse, float] | None:
        """The entry for ``key`` and its age, if this process holds it in memory and it is fresh:
        what :meth:`serve` answers at once, found without waiting for anything."""
        return self.cache.fresh(key, policy.ttl)

    @staticmethod
    def hit_status(policy: CachePolicy, age: float) -> str:
        """The Cache-Status of a fresh hit."""
        return f"{_CACHE_NAME}; hit; ttl={int(policy.ttl - age)}"

    def written(self, path: str) -> None:
        """A write to ``path`` succeeded: cached reads of it and of its collection are outdated."""
        for target in (path, path.rsplit("/", 1)[0]):
            self._generations[target] = self._generations.get(target, 0) + 1
        self.writes += 1

    async def serve(
        self, request: web.Request, handler: RouteHandler, policy: CachePolicy
    ) -> web.Response:
        key = self.key(request, handler, policy, caller=caller_partition(request))
        entry = await self.cache.get(key)
        freshness, age = self.cache.freshness(entry, policy) if entry else (Freshness.EXPIRED, 0.0)
        if entry is not None and freshness is Freshness.FRESH:
            self.on_lookup(handler.compiled.key, "hit")
            return self._cached(request, entry, age, self.hit_status(policy, age), stale=False)
        if entry is not None and freshness is Freshness.STALE_REVALIDATE:
            self._revalidate(key, request, handler, policy)
            self.on_lookup(handler.compiled.key, "stale")
            status = (
                f'{_CACHE_NAME}; hit; ttl={int(policy.ttl - age)}; detail="stale-while-revalidate"'
            )
            return self._cached(request, entry, age, status, stale=True)
        joined = self.flights.in_flight(key)
        self.on_lookup(handler.compiled.key, "miss")
        try:
            answer = await self.flights.run(key, lambda: self._fetch(key, request, handler, policy))
        except Problem as problem:
            if entry is not None and problem.status >= 500 and freshness.serves_on_error:
                log.warning(
                    "serving stale", route=handler.compiled.key, age_s=round(age), code=problem.code
                )
                self.on_lookup(handler.compiled.key, "stale")
                status = (
                    f"{_CACHE_NAME}; fwd=stale; fwd-status={problem.status}; "
                    f'ttl={int(policy.ttl - age)}; detail="stale-if-error"'
                )
                return self._cached(request, entry, age, status, stale=True)
            raise
        status = f"{_CACHE_NAME}; fwd=miss" + (
            "; collapsed" if joined else "; stored" if answer.cacheable else ""
        )
        return conditional(request, answer.response({"Cache-Status": status}))

    async def _fetch(
        self, key: str, request: web.Request, handler: RouteHandler, policy: CachePolicy
    ) -> Answer:
        # A flight that finished between our lookup and this one has stored its answer: use it.
        # (Flights store before they finish, so a later flight always sees it.)
        entry = await self.cache.get(key)
        if entry is not None and self.cache.freshness(entry, policy)[0] is Freshness.FRESH:
            return Answer(entry.status, entry.body, dict(entry.headers), cacheable=False)
        answer = await handler.answer(request, None)
        if answer.cacheable and 200 <= answer.status < 300:
            response = CachedResponse(
                status=answer.status,
                body=answer.body,
                headers=tuple(answer.headers.items()),
                stored_at=self.clock.now(),
                etag=answer.headers.get("ETag"),
            )
            # Visible here at once; written to the store in the background, so a store busy with
            # other writers never holds this answer past the route's deadline.
            expires_at = self.cache.put_hot(key, response, keep_for_s=retention(policy))
            if expires_at is not None:
                self._in_background(self.cache.persist(key, response, expires_at), handler)
        return answer

    def _in_background(self, work: Coroutine[Any, Any, None], handler: RouteHandler) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("cache write failed", route=handler.compiled.key)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _revalidate(
        self, key: str, request: web.Request, handler: RouteHandler, policy: CachePolicy
    ) -> None:
        if self.flights.in_flight(key):
            return
        paused_until = self._refresh_paused.get(key)
        if paused_until is not None:
            if self.clock.monotonic() < paused_until:
                return
            del self._refresh_paused[key]

        async def refresh() -> None:
            try:
                await self.flights.run(key, lambda: self._fetch(key, request, handler, policy))
            except Problem as problem:
                self._pause_refresh(key, problem.retry_after)
                log.info("background refresh failed", route=handler.compiled.key, code=problem.code)
            except Exception:
                self._pause_refresh(key, None)
                log.exception("background refresh failed", route=handler.compiled.key)

        task = asyncio.create_task(refresh())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _pause_refresh(self, key: str, retry_after: float | None) -> None:
        pause = REFRESH_PAUSE_S if retry_after is None else retry_after
        pause = min(max(pause, REFRESH_PAUSE_S), MAX_REFRESH_PAUSE_S)
        now = self.clock.monotonic()
        if len(self._refresh_paused) >= _MAX_PAUSED_KEYS:  # keys nobody asked for again
            self._refresh_paused = {k: t for k, t in self._refresh_paused.items() if t > now}
        self._refresh_paused[key] = now + pause

    def _cached(
        self, request: web.Request, entry: CachedResponse, age: float, status: str, *, stale: bool
    ) -> web.Response:
        headers = dict(entry.headers)
        headers["Age"] = str(int(age))
        headers["Cache-Status"] = status
        if stale:
            headers[STALE_HEADER] = "true"
        return conditional(
            request, web.Response(status=entry.status, body=entry.body, headers=headers)
        )

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
