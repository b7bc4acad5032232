"""Gateway configuration: load a YAML file into frozen, validated settings."""

from facade.settings.issues import ConfigError, ConfigIssue
from facade.settings.loader import known_kinds, load_settings
from facade.settings.model import (
    Backend,
    Credentials,
    Listener,
    Logging,
    OutboxPolicy,
    Route,
    Settings,
    Store,
)
from facade.settings.schema import settings_json_schema
from facade.settings.secret import Secret

__all__ = [
    "Backend",
    "ConfigError",
    "ConfigIssue",
    "Credentials",
    "Listener",
    "Logging",
    "OutboxPolicy",
    "Route",
    "Secret",
    "Settings",
    "Store",
    "known_kinds",
    "load_settings",
    "settings_json_schema",
]
