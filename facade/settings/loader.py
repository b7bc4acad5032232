"""Load a configuration file into validated :class:`Settings`, or fail with every problem at once."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any

from facade.settings.binding import Binder
from facade.settings.issues import ConfigError, ConfigIssue, Path_, did_you_mean
from facade.settings.model import BUILTIN_KINDS, HTTP_METHODS, Settings
from facade.settings.source import read_source

__all__ = ["known_kinds", "load_settings"]

_ROUTE_KEY = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*)$")
_PATH = re.compile(r"^/api/v\d+(/([A-Za-z0-9._~-]+|\{[a-z_][a-z0-9_]*\}))+$")
_TCP_KINDS = {"fishbowl", "framed-tcp"}
_HTTP_KINDS = set(BUILTIN_KINDS) - _TCP_KINDS
_NAME = r"[a-z][a-z0-9_-]{0,62}"
_NAME_HELP = "lower-case letters, digits, - and _, starting with a letter"


def known_kinds() -> tuple[str, ...]:
    """Built-in adapter kinds plus those registered under the ``veneer.adapters`` entry points."""
    plugins = {ep.name for ep in entry_points(group="veneer.adapters")}
    return tuple(sorted(set(BUILTIN_KINDS) | plugins))


def load_settings(
    path: Path | str,
    environ: Mapping[str, str] | None = None,
    *,
    kinds: Collection[str] | None = None,
) -> Settings:
    """Read, substitute, bind and cross-check ``path``; raise :class:`ConfigError` listing all issues."""
    path = Path(path)
    doc = read_source(path, environ)
    if doc.issues and doc.data is None:
        raise ConfigError(path, doc.issues)
    binder = Binder(doc.position, path.resolve().parent)
    settings = binder.bind_dataclass(doc.data, Settings, ())
    cross = cross_check(doc.data, kinds or known_kinds())
    issues = [
        *doc.issues,
        *binder.issues,
        *(replace(issue, position=doc.position(issue.path)) for issue in cross),
    ]
    if issues:
        raise ConfigError(path, sorted(issues, key=lambda i: i.position or (0, 0)))
    return replace(
        settings,
        source=path.resolve(),
        source_digest=doc.digest,
        positions=MappingProxyType(doc.marks),
    )


def cross_check(data: Any, kinds: Collection[str]) -> list[ConfigIssue]:
    """Rules that span fields, checked on the raw data so they report even when binding failed."""
    if not isinstance(data, dict):
        return []
    backends: dict[str, Any] = data["backends"] if isinstance(data.get("backends"), dict) else {}
    routes: dict[str, Any] = data["routes"] if isinstance(data.get("routes"), dict) else {}
    issues: list[ConfigIssue] = []
    for name, backend in backends.items():
        if isinstance(backend, dict):
            issues += _check_backend(name, backend, kinds)
    for key, route in routes.items():
        if isinstance(route, dict):
            issues += _check_route(key, route, sorted(backends))
    return issues


def _check_backend(name: str, backend: dict[str, Any], kinds: Collection[str]) -> list[ConfigIssue]:
    where: Path_ = ("backends", name)
    issues: list[ConfigIssue] = []
    if not re.fullmatch(_NAME, name):
        issues.append(ConfigIssue(where, "bad backend name", value=name, expected=_NAME_HELP))
    kind, endpoint = backend.get("kind"), backend.get("endpoint")
    if isinstance(kind, str) and kind not in kinds:
        issues.append(
            ConfigIssue(
                (*where, "kind"),
                f"unknown adapter kind{did_you_mean(kind, kinds)}",
                value=kind,
                expected="one of: " + ", ".join(sorted(kinds)),
            )
        )
    if isinstance(kind, str) and isinstance(endpoint, str):
        scheme = endpoint.partition("://")[0]
        if kind in _TCP_KINDS and scheme != "tcp":
            issues.append(
                ConfigIssue(
                    (*where, "endpoint"),
                    f"a {kind} backend speaks raw TCP",
                    value=endpoint,
                    expected="tcp://host:port",
                )
            )
        elif kind in _HTTP_KINDS and scheme not in {"http", "https"}:
            issues.append(
                ConfigIssue(
                    (*where, "endpoint"),
                    f"a {kind} backend speaks HTTP",
                    value=endpoint,
                    expected="http(s)://host:port/path",
                )
            )
    return issues


def _check_route(key: str, route: dict[str, Any], backends: list[str]) -> list[ConfigIssue]:
    where: Path_ = ("routes", key)
    match = _ROUTE_KEY.match(key)
    if not match or match["method"] not in HTTP_METHODS:
        return [
            ConfigIssue(
                where,
                "bad route key",
                value=key,
                expected=f'"METHOD /api/v1/path" with METHOD one of {", ".join(HTTP_METHODS)}',
            )
        ]
    issues: list[ConfigIssue] = []
    if not _PATH.match(match["path"]):
        issues.append(
            ConfigIssue(
                where,
                "bad route path",
                value=match["path"],
                expected="/api/v<N>/ followed by segments or {param} placeholders",
            )
        )
    backend = route.get("backend")
    if isinstance(backend, str) and backend not in backends:
        issues.append(
            ConfigIssue(
                (*where, "backend"),
                f"unknown backend{did_you_mean(backend, backends)}",
                value=backend,
                expected="one of: " + (", ".join(backends) or "(none declared)"),
            )
        )
    if route.get("cache") is not None and match["method"] != "GET":
        issues.append(
            ConfigIssue(
                (*where, "cache"),
                "only GET routes are cached",
                expected="no cache on a write route",
            )
        )
    if route.get("outbox") is not None and match["method"] == "GET":
        issues.append(
            ConfigIssue(
                (*where, "outbox"),
                "only write routes can queue",
                expected="no outbox on a GET route",
            )
        )
    return issues
