"""What each route demands of a caller: a credential or none, which scopes, which rate limit.

Scopes default from the path: the first segment after the version, ``:read`` for GET and
``:write`` for the other methods (``GET /api/v1/orders/{no}/shipment`` needs ``orders:read``,
``POST /api/v1/orders`` needs ``orders:write``). A write answered with a GET route's
representation (``answer_with``) also needs that route's scopes: its answer is a read.

A request is matched to its route by aiohttp's resource, not by re-parsing the path. Any other
path under ``/api/`` (the operations route, one added later) needs a credential and no scope:
authentication is the default, never an opt-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web

from facade.settings import Route, Settings
from resilience.ratelimit import RateLimitPolicy

__all__ = ["AccessTable", "RouteAccess", "default_scopes"]

_API_PREFIX = "/api/"


@dataclass(frozen=True, slots=True)
class RouteAccess:
    key: str
    public: bool
    scopes: tuple[str, ...]
    limit: RateLimitPolicy | None = None
    limit_name: str = "default"


def default_scopes(method: str, path: str) -> tuple[str, ...]:
    """``<first segment after /api/vN>:read`` for GET, ``:write`` for writes."""
    segments = [part for part in path.split("/") if part]
    resource = segments[2] if len(segments) > 2 else "api"
    return (f"{resource}:{'read' if method in {'GET', 'HEAD'} else 'write'}",)


def _scopes(key: str, route: Route) -> tuple[str, ...]:
    method, _, path = key.partition(" ")
    return route.scopes or default_scopes(method, path)


class AccessTable:
    def __init__(self, entries: Mapping[str, RouteAccess], fallback: RouteAccess) -> None:
        self._entries = dict(entries)
        self._fallback = fallback

    @classmethod
    def from_settings(cls, settings: Settings, extra: Iterable[str] = ()) -> AccessTable:
        """Every configured route, plus ``extra`` route keys that need only a credential."""
        enabled = settings.auth.enabled
        limits = settings.rate_limit
        default_limit = (
            RateLimitPolicy(rate=limits.rate, burst=limits.burst) if limits.enabled else None
        )
        entries: dict[str, RouteAccess] = {}
        for key, route in settings.routes.items():
            scopes = list(_scopes(key, route))
            reader = route.answer_with.route if route.answer_with else ""
            if reader in settings.routes and not settings.routes[reader].public:
                scopes += [s for s in _scopes(reader, settings.routes[reader]) if s not in scopes]
            own_limit = route.rate_limit if limits.enabled else None
            entries[key] = RouteAccess(
                key=key,
                public=route.public or not enabled,
                scopes=() if route.public or not enabled else tuple(scopes),
                limit=own_limit or default_limit,
                limit_name="route" if own_limit else "default",
            )
        for key in extra:
            entries.setdefault(key, RouteAccess(key, not enabled, (), default_limit))
        return cls(entries, RouteAccess("/api/*", not enabled, (), default_limit))

    def for_route(self, key: str) -> RouteAccess:
        return self._entries.get(key, self._fallback)

    def lookup(self, request: web.Request) -> RouteAccess | None:
        """The access rule of the route ``request`` matched; None outside /api (or no match)."""
        resource = request.match_info.route.resource
        if resource is None:
            return None
        canonical = resource.canonical
        if not canonical.startswith(_API_PREFIX):
            return None
        method = "GET" if request.method == "HEAD" else request.method
        return self._entries.get(f"{method} {canonical}", self._fallback)

    def required_scopes(self) -> list[str]:
        """Every scope some route asks for (what the demo token is given)."""
        found: dict[str, None] = {}
        for entry in self._entries.values():
            found.update(dict.fromkeys(entry.scopes))
        return list(found)
