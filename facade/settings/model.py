"""The shape of a gateway configuration: frozen dataclasses that are also its schema.

Every field's ``metadata["help"]`` is its one-line documentation; docs/configuration.md and the
JSON Schema (``veneer config-schema``) are generated from the same place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from facade.settings.issues import ConfigIssue
from facade.settings.route_model import OutboxPolicy, Route
from facade.settings.secret import Secret
from facade.settings.security_model import Auth, Ops, RateLimits
from resilience.breaker import BreakerConfig
from resilience.bulkhead import BulkheadConfig
from resilience.cache import CachePolicy
from resilience.retry import RetryConfig
from resilience.timeouts import Timeouts

__all__ = [
    "BUILTIN_KINDS",
    "HTTP_METHODS",
    "Api",
    "Auth",
    "Backend",
    "Cors",
    "Credentials",
    "Listener",
    "Logging",
    "Ops",
    "OutboxPolicy",
    "RateLimits",
    "Route",
    "Settings",
    "Store",
]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BUILTIN_KINDS = ("soap", "xmlrpc", "odoo", "fishbowl", "framed-tcp")
_NAME = r"[a-z][a-z0-9_-]{0,62}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Listener:
    host: str = field(default="127.0.0.1", metadata={"help": "address the gateway listens on"})
    port: int = field(
        default=8080, metadata={"ge": 0, "le": 65535, "help": "TCP port (0: any free port)"}
    )
    workers: int = field(
        default=1, metadata={"ge": 1, "le": 64, "help": "worker processes (SO_REUSEPORT)"}
    )
    loop: Literal["auto", "uvloop", "asyncio"] = field(
        default="auto",
        metadata={"help": "event loop: auto is uvloop where installed, else asyncio's own"},
    )
    hit_lane: bool = field(
        default=True,
        metadata={
            "help": "answer fresh cache hits as the connection reads them, without aiohttp's "
            "request objects (the same answer, access line and metrics); false: every request "
            "takes the full pipeline"
        },
    )
    call_lane: bool = field(
        default=True,
        metadata={
            "help": "serve uncached reads of configured routes from the connection, without "
            "aiohttp's request objects (the same answer, access line and metrics); false: they "
            "take the full pipeline"
        },
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Store:
    """Where the cache, outbox and idempotency records live."""

    url: str | None = field(
        default=None,
        metadata={
            "help": "postgresql://... or sqlite:///path; unset: a SQLite file in data_dir",
            "pattern": r"(sqlite(\+aiosqlite)?|postgres(ql)?(\+asyncpg)?)://.*",
            "pattern_help": "a sqlite:/// or postgresql:// URL",
        },
    )
    data_dir: str = field(
        default=".veneer",
        metadata={"help": "directory for the embedded SQLite file, relative to the config file"},
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Logging:
    level: Literal["debug", "info", "warning", "error"] = field(
        default="info", metadata={"help": "the least severe level written"}
    )
    format: Literal["auto", "json", "console"] = field(
        default="auto", metadata={"help": "auto: readable on a terminal, JSON lines otherwise"}
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Credentials:
    username: str | None = field(default=None, metadata={"help": "login name"})
    password: Secret | None = field(default=None, metadata={"help": "a ${VAR} reference"})
    api_key: Secret | None = field(default=None, metadata={"help": "a ${VAR} reference"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Backend:
    """One legacy system behind the gateway."""

    kind: str = field(
        metadata={
            "help": "adapter: soap, xmlrpc, odoo, fishbowl, framed-tcp, or an entry-point name"
        }
    )
    endpoint: str = field(
        metadata={
            "help": "http(s)://host:port/path or tcp://host:port",
            "pattern": r"(https?|tcp)://[^\s/:]+(:\d{1,5})?(/\S*)?",
            "pattern_help": "a URL such as http://127.0.0.1:8081/WS or tcp://127.0.0.1:28192",
        }
    )
    description: str = field(default="", metadata={"help": "what this system is, for operators"})
    credentials: Credentials = field(
        default_factory=Credentials, metadata={"help": "how to log in"}
    )
    options: Mapping[str, Any] = field(
        default_factory=dict, metadata={"help": "settings of the adapter kind (WSDL, framing, ...)"}
    )
    timeouts: Timeouts = field(
        default_factory=Timeouts, metadata={"help": "connect and read timeouts"}
    )
    breaker: BreakerConfig = field(
        default_factory=BreakerConfig, metadata={"help": "circuit breaker"}
    )
    retry: RetryConfig = field(
        default_factory=RetryConfig, metadata={"help": "retries of idempotent calls"}
    )
    bulkhead: BulkheadConfig = field(
        default_factory=BulkheadConfig, metadata={"help": "concurrency cap"}
    )
    cache: CachePolicy | None = field(
        default=None, metadata={"help": "default cache policy for this backend's GET routes"}
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Api:
    """What clients see of the API as a whole."""

    title: str = field(default="veneer gateway", metadata={"help": "title of the OpenAPI document"})
    version: str = field(default="1", metadata={"help": "version of the OpenAPI document"})
    body_limit: int = field(
        default=1024 * 1024,
        metadata={"ge": 1024, "le": 64 * 1024 * 1024, "help": "largest request body, bytes"},
    )
    max_string_length: int = field(
        default=64 * 1024,
        metadata={
            "ge": 16,
            "le": 64 * 1024 * 1024,
            "help": "longest string (value or key) in a JSON body, characters; checked before the schema",
        },
    )
    idempotency_ttl: float = field(
        default=86400.0,
        metadata={"unit": "seconds", "gt": 0, "help": "how long an Idempotency-Key is remembered"},
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Cors:
    """Cross-origin access for browser clients; no origin is allowed unless listed."""

    origins: tuple[str, ...] = field(
        default=(), metadata={"help": "allowed origins, e.g. https://app.example.com ('*' for any)"}
    )
    allow_headers: tuple[str, ...] = field(
        default=(
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "If-Match",
            "If-None-Match",
            "X-Request-ID",
        ),
        metadata={"help": "request headers a browser may send"},
    )
    expose_headers: tuple[str, ...] = field(
        default=(
            "ETag",
            "Location",
            "Retry-After",
            "X-Request-ID",
            "Cache-Status",
            "Age",
            "Veneer-Stale",
            "Deprecation",
            "Sunset",
            "Link",
        ),
        metadata={"help": "response headers a browser script may read"},
    )
    credentials: bool = field(default=False, metadata={"help": "allow cookies and Authorization"})
    max_age: int = field(
        default=600, metadata={"ge": 0, "help": "seconds a preflight answer may be cached"}
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """A whole gateway configuration, as loaded from one file."""

    version: Literal[1] = field(default=1, metadata={"help": "configuration format version"})
    listen: Listener = field(default_factory=Listener, metadata={"help": "the HTTP listener"})
    store: Store = field(default_factory=Store, metadata={"help": "the shared state store"})
    logging: Logging = field(default_factory=Logging, metadata={"help": "log level and format"})
    backends: Mapping[str, Backend] = field(
        default_factory=dict, metadata={"help": "legacy systems, by name"}
    )
    api: Api = field(default_factory=Api, metadata={"help": "the API as a whole"})
    cors: Cors = field(default_factory=Cors, metadata={"help": "browser cross-origin access"})
    auth: Auth = field(default_factory=Auth, metadata={"help": "how callers prove who they are"})
    rate_limit: RateLimits = field(
        default_factory=RateLimits, metadata={"help": "requests per caller and route"}
    )
    ops: Ops = field(default_factory=Ops, metadata={"help": "credentials of the ops endpoints"})
    routes: Mapping[str, Route] = field(
        default_factory=dict, metadata={"help": 'REST routes, keyed "METHOD /api/v1/path"'}
    )
    source: Path | None = field(default=None, metadata={"internal": True})
    #: SHA-256 (hex) of the source file's bytes: tells workers whether they read the same version
    source_digest: str | None = field(default=None, metadata={"internal": True}, compare=False)
    #: line:column of every path in the source file, for errors found after loading.
    positions: Mapping[tuple[str | int, ...], tuple[int, int]] = field(
        default_factory=dict, metadata={"internal": True}, repr=False, compare=False
    )

    def issue(self, path: tuple[str | int, ...], message: str, **kw: Any) -> ConfigIssue:
        """A ConfigIssue at ``path``, positioned in the source file where possible."""
        probe = path
        while probe and probe not in self.positions:
            probe = probe[:-1]
        return ConfigIssue(path, message, position=self.positions.get(probe), **kw)

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file's own directory."""
        return self.source.parent if self.source else Path.cwd()

    def store_url(self) -> str:
        """The SQLAlchemy async URL of the store, with the driver spelled out."""
        url = self.store.url
        if url is None:
            data_dir = (self.base_dir / self.store.data_dir).resolve()
            return f"sqlite+aiosqlite:///{data_dir / 'veneer.db'}"
        scheme, _, rest = url.partition("://")
        driver = {
            "sqlite": "sqlite+aiosqlite",
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
        }.get(scheme, scheme)
        return f"{driver}://{rest}"
