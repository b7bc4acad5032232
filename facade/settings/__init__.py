"""Gateway configuration: load a YAML file into frozen, validated settings."""

from facade.settings.issues import ConfigError, ConfigIssue
from facade.settings.loader import known_kinds, load_settings
from facade.settings.model import (
    Api,
    Backend,
    Cors,
    Credentials,
    Listener,
    Logging,
    Settings,
    Store,
)
from facade.settings.route_model import FanOut, Include, OutboxPolicy, Pagination, Param, Route
from facade.settings.schema import settings_json_schema
from facade.settings.secret import Secret
from facade.settings.security_model import ApiKeyClient, ApiKeys, Auth, Jwt, Ops, RateLimits

__all__ = [
    "Api",
    "ApiKeyClient",
    "ApiKeys",
    "Auth",
    "Backend",
    "ConfigError",
    "ConfigIssue",
    "Cors",
    "Credentials",
    "FanOut",
    "Include",
    "Jwt",
    "Listener",
    "Logging",
    "Ops",
    "OutboxPolicy",
    "Pagination",
    "Param",
    "RateLimits",
    "Route",
    "Secret",
    "Settings",
    "Store",
    "known_kinds",
    "load_settings",
    "settings_json_schema",
]
