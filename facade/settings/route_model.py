"""The shape of one route: what it accepts, what it calls, and how it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from resilience.cache import CachePolicy
from resilience.ratelimit import RateLimitPolicy

__all__ = ["FanOut", "Include", "OutboxPolicy", "Pagination", "Param", "Route"]

ParamType = Literal["string", "integer", "number", "boolean", "array"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Param:
    """A query, path or header parameter; validated (and coerced) before any backend call."""

    in_: Literal["query", "path", "header"] = field(
        default="query", metadata={"help": "where the parameter is read from", "alias": "in"}
    )
    type: ParamType = field(
        default="string", metadata={"help": "value type; arrays are comma-separated"}
    )
    items: Literal["string", "integer", "number"] = field(
        default="string", metadata={"help": "element type of an array"}
    )
    required: bool = field(default=False, metadata={"help": "reject requests without it"})
    description: str = field(default="", metadata={"help": "for the OpenAPI document"})
    enum: tuple[str, ...] = field(default=(), metadata={"help": "the only values allowed"})
    pattern: str | None = field(
        default=None, metadata={"help": "a regular expression the value must match"}
    )
    minimum: float | None = field(default=None, metadata={"help": "smallest number allowed"})
    maximum: float | None = field(default=None, metadata={"help": "largest number allowed"})
    max_length: int = field(
        default=256, metadata={"ge": 1, "help": "longest string (or array) allowed"}
    )
    max_items: int = field(default=50, metadata={"ge": 1, "help": "most elements in an array"})
    default: Any = field(default=None, metadata={"help": "value when absent"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Pagination:
    """Cursor pagination over a backend that pages by offset or by a bookmark token.

    The request template reads ``page.limit``, ``page.fetch`` (limit + 1, to learn whether more
    exist), ``page.offset`` and ``page.after`` (the bookmark of the last item served). Clients
    see ``{"data": [...], "next": url-or-null}`` and an opaque ``cursor``.
    """

    style: Literal["offset", "bookmark"] = field(
        metadata={"help": "how the backend continues a listing"}
    )
    items: str = field(default="result", metadata={"help": "reference to the list in the result"})
    bookmark: str | None = field(
        default=None, metadata={"help": "bookmark style: reference into an item, e.g. item.Key"}
    )
    default_limit: int = field(
        default=25, metadata={"ge": 1, "help": "page size when ?limit= is absent"}
    )
    max_limit: int = field(default=100, metadata={"ge": 1, "help": "largest ?limit= accepted"})

    def __post_init__(self) -> None:
        if self.style == "bookmark" and not self.bookmark:
            raise ValueError("bookmark pagination needs `bookmark`, e.g. item.Key")
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")


@dataclass(frozen=True, kw_only=True, slots=True)
class Include:
    """A related resource another route serves, embedded on ``?include=name``."""

    route: str = field(metadata={"help": 'the route to call, e.g. "GET /api/v1/customers/{id}"'})
    params: Mapping[str, Any] = field(
        default_factory=dict,
        metadata={"help": "its path/query params, built from this route's JSON (result.*)"},
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class FanOut:
    """Call the operation once per element of a list parameter, concurrently."""

    over: str = field(metadata={"help": "the array parameter to fan out over, e.g. query.sku"})
    as_: str = field(
        default="each", metadata={"help": "name of the element in templates", "alias": "as"}
    )
    max: int = field(
        default=50, metadata={"ge": 1, "le": 200, "help": "most calls one request may make"}
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxPolicy:
    """Writes the backend cannot take now are stored and delivered later."""

    max_attempts: int = field(
        default=8, metadata={"ge": 1, "help": "deliveries tried before dead-lettering"}
    )
    resource: str | None = field(
        default=None,
        metadata={"help": "path parameter naming the resource, to keep order per resource"},
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """One REST endpoint, keyed in the file by ``"METHOD /api/v1/path/{param}"``."""

    backend: str = field(metadata={"help": "name of a backend declared under backends"})
    operation: str = field(metadata={"help": "the backend operation, e.g. SalesOrder.Read"})
    summary: str = field(default="", metadata={"help": "one line for the OpenAPI document"})
    description: str = field(default="", metadata={"help": "longer text for the OpenAPI document"})
    tags: tuple[str, ...] = field(
        default=(), metadata={"help": "OpenAPI tags (default: the first path segment)"}
    )
    params: Mapping[str, Param] = field(
        default_factory=dict,
        metadata={"help": "declared parameters; undeclared query parameters are rejected"},
    )
    body: Mapping[str, Any] | None = field(
        default=None, metadata={"help": "JSON Schema of the request body (writes)"}
    )
    request: Mapping[str, Any] = field(
        default_factory=dict, metadata={"help": "operation params from path, query, body and page"}
    )
    response: Any = field(default=None, metadata={"help": "JSON built from the operation's result"})
    result: str | None = field(
        default=None,
        metadata={
            "help": "the part of the backend's result this route answers with, e.g. result.Shipping"
        },
    )
    single: bool = field(
        default=False,
        metadata={"help": "the operation returns a list: answer its first element, 404 when empty"},
    )
    status: int = field(default=200, metadata={"ge": 200, "le": 299, "help": "status of a success"})
    location: str | None = field(
        default=None,
        metadata={
            "help": "Location header of a success, with {field} from the answer, e.g. /api/v1/orders/{no}"
        },
    )
    pagination: Pagination | None = field(
        default=None, metadata={"help": "cursor pagination (list routes)"}
    )
    fan_out: FanOut | None = field(
        default=None, metadata={"help": "one call per element of a list parameter"}
    )
    answer_with: Include | None = field(
        default=None,
        metadata={
            "help": "after a write, answer what this GET route answers (params from result, path, body)"
        },
    )
    include: Mapping[str, Include] = field(
        default_factory=dict, metadata={"help": "related resources embedded on ?include="}
    )
    etag: str | None = field(
        default=None,
        metadata={
            "help": "reference to the backend's concurrency token (e.g. result.Key): it becomes the ETag"
        },
    )
    cache_control: str | None = field(
        default=None, metadata={"help": "Cache-Control for successes (default derived from cache)"}
    )
    deprecation: str | None = field(
        default=None, metadata={"help": "Deprecation header: an HTTP date, or 'true'"}
    )
    sunset: str | None = field(
        default=None, metadata={"help": "Sunset header: the HTTP date it goes away"}
    )
    timeout: float | None = field(
        default=None, metadata={"unit": "seconds", "gt": 0, "help": "total deadline for this route"}
    )
    cache: CachePolicy | None = field(default=None, metadata={"help": "cache policy (GET only)"})
    outbox: OutboxPolicy | None = field(
        default=None, metadata={"help": "queue writes while the backend is down"}
    )
    public: bool = field(
        default=False,
        metadata={"help": "callable without credentials (every route needs one otherwise)"},
    )
    scopes: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "scopes a caller needs, all of them (default: <first path segment>:read for GET, :write otherwise)",
            "pattern": r"[A-Za-z0-9_.:/*-]{1,64}",
        },
    )
    rate_limit: RateLimitPolicy | None = field(
        default=None, metadata={"help": "this route's own rate limit (default: rate_limit)"}
    )

    def __post_init__(self) -> None:
        if self.public and self.scopes:
            raise ValueError("a public route needs no scopes: drop `scopes` or `public`")
