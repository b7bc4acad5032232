"""Configured routes, served by generation, so a reload can swap them in a running application.

aiohttp freezes an application's router when it starts, so the configured routes do not live in
it: each generation of the configuration gets a router of its own, and one resource registered
last on the application (under ``/``, so every fixed path such as ``/ops`` or ``/healthz`` is
matched first) resolves against the generation in service when the request arrives.

The request is pinned to that generation, its handlers, adapters and policies, until it ends.
Resolution counts it in and the pipeline (``facade.middlewares.pipeline``) counts it out, so a
retired generation knows when its last request is done and its adapters may close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sized
from dataclasses import dataclass

import orjson
from aiohttp import web
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    MatchInfoError,
    UrlMappingMatchInfo,
)
from yarl import URL

from facade.logs import LogThrottle
from facade.middlewares.keys import PINNED
from facade.openapi import build_openapi
from facade.routes.caching import RouteCache
from facade.routes.handler import DECLINE_LOG_EVERY_S, HandlerContext, RouteHandler
from facade.routes.idempotency import Idempotency
from facade.runtime import Generation, Runtime
from facade.security.access import AccessTable
from resilience import Outbox

__all__ = ["RESOLVED_PATHS", "Served", "Serving", "Shared"]

#: Resolved (method, path) pairs each generation remembers; forgotten all at once when full
#: (paths carry ids, so the set is unbounded, and a clear costs less than an LRU's bookkeeping).
RESOLVED_PATHS = 4096


@dataclass(frozen=True)
class Shared:
    """What every generation's handlers share: they outlive a reload."""

    cursor_secret: bytes
    idempotency: Idempotency | None
    cache: RouteCache | None
    outbox: Outbox | None


class Served:
    """One generation as the facade serves it: its router, handlers and OpenAPI document."""

    def __init__(
        self, runtime: Runtime, generation: Generation, shared: Shared, access: AccessTable
    ) -> None:
        settings = generation.settings
        self.generation = generation
        self.loaded_at = time.time()
        self.access = access
        self.context = HandlerContext(
            cursor_secret=shared.cursor_secret,
            idempotency=shared.idempotency,
            cache=shared.cache,
            outbox=shared.outbox,
            access=self.access,
            declines=LogThrottle(every_s=DECLINE_LOG_EVERY_S, clock=runtime.clock.monotonic),
        )
        caller = runtime.caller(generation)
        self.router = web.UrlDispatcher()
        #: the GET routes, by aiohttp route, with their paths as configured
        self._readers: dict[AbstractRoute, tuple[RouteHandler, str]] = {}
        for key, compiled in generation.backends.routes.items():
            handler = RouteHandler(compiled, caller, self.context)
            if compiled.method == "GET":
                backend = settings.backends[compiled.route.backend]
                handler.cache_policy = compiled.route.cache or backend.cache
            self.context.handlers[key] = handler
            route = self.router.add_route(compiled.method, compiled.path, handler.handle)
            if compiled.method == "GET":
                assert route.resource is not None  # a route added by path has its resource
                self._readers[route] = (handler, route.resource.canonical)
        self.openapi = orjson.dumps(
            build_openapi(settings, title=settings.api.title, version=settings.api.version)
        )
        self._resolved: dict[tuple[str, str], tuple[dict[str, str], AbstractRoute]] = {}
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def resolve(self, request: web.Request) -> UrlMappingMatchInfo:
        """The route for the request's method and path, remembered for the next request alike.

        A configured route's match depends on nothing else, so a path seen before skips the
        dispatcher's walk and its patterns: a fresh match info from the remembered match.
        """
        key = (request.method, request.rel_url.path_safe)
        known = self._resolved.get(key)
        if known is not None:
            return UrlMappingMatchInfo(dict(known[0]), known[1])
        match = await self.router.resolve(request)
        if not isinstance(match, MatchInfoError):
            if len(self._resolved) >= RESOLVED_PATHS:
                self._resolved.clear()
            self._resolved[key] = (dict(match), match.route)
        return match

    def cached_reader(self, path_safe: str) -> tuple[RouteHandler, str] | None:
        """The cached GET route a GET of ``path_safe`` resolved to before, and its path as
        configured; None if it resolved elsewhere or not yet (the hit lane's lookup)."""
        found = self.reader(path_safe)
        if found is None:
            return None
        handler, template, _ = found
        return (handler, template) if handler.cached else None

    def reader(self, path_safe: str) -> tuple[RouteHandler, str, dict[str, str]] | None:
        """The GET route a GET of ``path_safe`` resolved to before, its path as configured and
        the path's parameters; None if it resolved elsewhere or not yet (the lanes' lookup)."""
        known = self._resolved.get(("GET", path_safe))
        if known is None:
            return None
        found = self._readers.get(known[1])
        return None if found is None else (*found, known[0])

    def resolved(self, path_safe: str) -> bool:
        """Whether a GET of ``path_safe`` has been resolved in this generation (so that
        :meth:`cached_reader`'s None means "not a cached route" rather than "not yet")."""
        return ("GET", path_safe) in self._resolved

    @property
    def number(self) -> int:
        return self.generation.number

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight <= 0:
            self._idle.set()

    async def drained(self, timeout_s: float) -> bool:
        """Wait until no request is pinned here any more; False if ``timeout_s`` ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


class Serving:
    """The generation in service; :meth:`swap` replaces it (no await: atomic on the loop)."""

    def __init__(self, current: Served) -> None:
        self.current = current

    def swap(self, served: Served) -> Served:
        retired, self.current = self.current, served
        return retired

    def install(self, app: web.Application) -> None:
        """Route every path no fixed route claims to the generation in service."""
        app.router.register_resource(_ServedResource(self))


class _ServedResource(AbstractResource):
    def __init__(self, serving: Serving) -> None:
        super().__init__(name=None)
        self._serving = serving

    @property
    def canonical(self) -> str:
        return "/"

    async def resolve(self, request: web.Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        served = self._serving.current
        match = await served.resolve(request)
        if isinstance(match, MatchInfoError):
            return None, set(getattr(match.http_exception, "allowed_methods", ()))
        served.enter()
        request[PINNED] = served
        return match, set()

    def url_for(self, **kwargs: str) -> URL:
        raise TypeError("configured routes have no URL builder: they change with reloads")

    def add_prefix(self, prefix: str) -> None:
        raise TypeError("the configured routes cannot move under a sub-application")

    def get_info(self) -> dict[str, str]:  # type: ignore[override]
        return {"generation": str(self._serving.current.number)}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        routes: Sized = self._serving.current.router.routes()
        return len(routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._serving.current.router.routes())
