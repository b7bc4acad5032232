"""The security sections of a configuration: who may call, how often, and who may operate.

``auth`` says how clients prove who they are (bearer JWTs, API keys); ``rate_limit`` how often
each may call each route; ``ops`` which credentials guard the operators' endpoints. Key material
is never written in the file: the JWT secret and the ops tokens are ``${VAR}`` references (or
``{file: path}``), API keys are stored as salted hashes (``veneer hash-api-key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from facade.settings.secret import Secret

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "ApiKeyClient",
    "ApiKeys",
    "Auth",
    "Jwt",
    "Ops",
    "RateLimits",
]

JwtAlgorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA",
]  # fmt: skip
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_MIN_HMAC_SECRET = 32  # bytes: RFC 7518 §3.2 wants a key at least as long as the hash
_MIN_OPS_TOKEN = 16
_SCOPE = r"[A-Za-z0-9_.:/*-]{1,64}"
API_KEY_HASH = r"sha256:[0-9a-f]{32}:[0-9a-f]{64}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Jwt:
    """Bearer JSON Web Tokens, verified locally: signature, issuer, audience, expiry."""

    issuer: str = field(metadata={"help": "the only accepted `iss` claim"})
    audience: str = field(metadata={"help": "the `aud` claim a token must carry for this API"})
    algorithms: tuple[JwtAlgorithm, ...] = field(
        metadata={"help": "accepted `alg` values; HS* use `secret`, the others JWKS keys"}
    )
    secret: Secret | None = field(
        default=None, metadata={"help": "shared HMAC secret (HS256...), at least 32 bytes"}
    )
    jwks_file: str | None = field(
        default=None, metadata={"help": "a JWKS document on disk, relative to this file"}
    )
    jwks_url: str | None = field(
        default=None,
        metadata={
            "help": "the issuer's JWKS URL, fetched in the background (startup does not need it)",
            "pattern": r"https?://\S+",
            "pattern_help": "an http(s):// URL",
        },
    )
    jwks_refresh: float = field(
        default=300.0,
        metadata={"unit": "seconds", "ge": 1, "help": "refetch the JWKS at least this often"},
    )
    jwks_min_interval: float = field(
        default=30.0,
        metadata={
            "unit": "seconds",
            "ge": 0,
            "help": "an unknown `kid` refetches the JWKS at most this often",
        },
    )
    leeway: float = field(
        default=30.0,
        metadata={
            "unit": "seconds",
            "ge": 0,
            "le": 300,
            "help": "clock skew allowed on exp and nbf",
        },
    )
    subject_claim: str = field(default="sub", metadata={"help": "the claim naming the caller"})
    scope_claim: str = field(
        default="scope",
        metadata={"help": "claim with the scopes (space-separated or a list); `scp` is also read"},
    )

    def __post_init__(self) -> None:
        algorithms = set(self.algorithms)
        if not algorithms:
            raise ValueError("jwt.algorithms must name at least one algorithm")
        if algorithms & HMAC_ALGORITHMS and self.secret is None:
            raise ValueError("HS* algorithms need `secret` (a ${VAR} reference)")
        if self.secret is not None and not algorithms & HMAC_ALGORITHMS:
            raise ValueError("`secret` is set but no HS* algorithm is accepted")
        if self.secret is not None and len(self.secret.reveal().encode()) < _MIN_HMAC_SECRET:
            raise ValueError(f"the JWT secret must be at least {_MIN_HMAC_SECRET} bytes long")
        asymmetric = algorithms & ASYMMETRIC_ALGORITHMS
        if asymmetric and not (self.jwks_file or self.jwks_url):
            raise ValueError(f"{', '.join(sorted(asymmetric))} need `jwks_file` or `jwks_url`")
        if (self.jwks_file or self.jwks_url) and not asymmetric:
            raise ValueError("JWKS keys are configured but no RS*/PS*/ES*/EdDSA algorithm is")


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKeyClient:
    """A server-to-server client: its key's salted hash and what it may do."""

    hash: str = field(
        metadata={
            "help": "output of `veneer hash-api-key` (never the key itself)",
            "pattern": API_KEY_HASH,
            "pattern_help": "sha256:<32 hex salt>:<64 hex digest>, as `veneer hash-api-key` prints",
        }
    )
    scopes: tuple[str, ...] = field(
        default=(), metadata={"help": "scopes granted, e.g. orders:read", "pattern": _SCOPE}
    )
    description: str = field(default="", metadata={"help": "who this is, for operators"})


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKeys:
    """API keys presented in a header by server-to-server clients."""

    header: str = field(
        default="X-API-Key",
        metadata={"help": "request header carrying the key", "pattern": r"[A-Za-z0-9-]{1,64}"},
    )
    clients: Mapping[str, ApiKeyClient] = field(
        default_factory=dict, metadata={"help": "clients by name (the name is the caller's id)"}
    )

    def __post_init__(self) -> None:
        if self.header.lower() == "authorization":
            raise ValueError("the API key header cannot be Authorization (bearer tokens use it)")
        hashes = [client.hash for client in self.clients.values()]
        if len(hashes) != len(set(hashes)):
            raise ValueError("two API key clients share one key hash")


@dataclass(frozen=True, kw_only=True, slots=True)
class Auth:
    """Who may call the API: every /api route needs a credential unless it is `public`."""

    enabled: bool = field(
        default=True, metadata={"help": "false: every route is public (development only)"}
    )
    jwt: Jwt | None = field(default=None, metadata={"help": "accept bearer JWTs"})
    api_keys: ApiKeys = field(default_factory=ApiKeys, metadata={"help": "accept API keys"})


@dataclass(frozen=True, kw_only=True, slots=True)
class RateLimits:
    """Token buckets per caller and route (callers of public routes: per client address)."""

    enabled: bool = field(default=True, metadata={"help": "false: no rate limits"})
    rate: float = field(
        default=20.0, metadata={"gt": 0, "help": "requests per second a caller may sustain"}
    )
    burst: int = field(
        default=40,
        metadata={"ge": 1, "le": 1_000_000, "help": "requests a caller may send at once"},
    )
    redis_url: str | None = field(
        default=None,
        metadata={
            "help": "share limits across processes and replicas (redis://host:6379/0)",
            "pattern": r"(rediss?|unix)://\S+",
            "pattern_help": "a redis://, rediss:// or unix:// URL",
        },
    )
    redis_prefix: str = field(
        default="veneer:ratelimit:", metadata={"help": "prefix of the Redis keys"}
    )
    redis_timeout: float = field(
        default=0.1,
        metadata={
            "unit": "seconds",
            "gt": 0,
            "le": 5,
            "help": "longest wait for Redis before this process's own buckets decide",
        },
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Ops:
    """Credentials of the operators' endpoints (/ops, /metrics), separate from API callers'."""

    admin_token: Secret | None = field(
        default=None,
        metadata={"help": "bearer token for everything, changes included; unset: no changes"},
    )
    read_token: Secret | None = field(
        default=None, metadata={"help": "bearer token for read-only access"}
    )
    public_read: bool = field(
        default=False, metadata={"help": "reads need no token (a trusted network only)"}
    )

    def __post_init__(self) -> None:
        for name in ("admin_token", "read_token"):
            token = getattr(self, name)
            if token is not None and len(token.reveal()) < _MIN_OPS_TOKEN:
                raise ValueError(f"ops.{name} must be at least {_MIN_OPS_TOKEN} characters long")
        if self.admin_token is not None and self.admin_token == self.read_token:
            raise ValueError("ops.read_token must differ from ops.admin_token")
