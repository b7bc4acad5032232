"""Security: who is calling (JWTs, API keys), what they may do (scopes), how often (rate
limits), and who may operate the gateway (ops tokens). docs/security.md has the threat model.

The composition (:func:`facade.security.install.install_security`) is imported from its module
by the app factory, not from here, so that the middlewares may import these leaf modules.
"""

from facade.redaction import redact, remember_secrets
from facade.security.access import AccessTable, RouteAccess, default_scopes
from facade.security.apikeys import ApiKeyRegistry, generate_api_key, hash_api_key, verify_api_key
from facade.security.authenticator import Authenticator
from facade.security.demo import DEMO_API_KEY, demo_credentials, demo_warnings, mint_token
from facade.security.errors import Unauthenticated, forbidden, unauthenticated
from facade.security.jwks import JwksError, JwksSource, KeySet
from facade.security.ops import OPS_GUARD, OpsGuard, require_ops
from facade.security.principal import ANONYMOUS, Principal
from facade.security.tokens import JwtVerifier

__all__ = [
    "ANONYMOUS",
    "DEMO_API_KEY",
    "OPS_GUARD",
    "AccessTable",
    "ApiKeyRegistry",
    "Authenticator",
    "JwksError",
    "JwksSource",
    "JwtVerifier",
    "KeySet",
    "OpsGuard",
    "Principal",
    "RouteAccess",
    "Unauthenticated",
    "default_scopes",
    "demo_credentials",
    "demo_warnings",
    "forbidden",
    "generate_api_key",
    "hash_api_key",
    "mint_token",
    "redact",
    "remember_secrets",
    "require_ops",
    "unauthenticated",
    "verify_api_key",
]
