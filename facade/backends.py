"""From settings to running adapters and compiled routes, or to a list of configuration errors.

This is the second half of configuration checking: what only the adapters can know. A backend's
``options`` are bound to its kind's ``Options`` dataclass (same rules, same error format as the
rest of the file); adapters are started (WSDLs load here, off the event loop, without contacting
the backend); each route's operation is checked against what the adapter discovered, and its
mappings are compiled. ``veneer check-config`` runs all of it, and so does startup, before any
port opens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.base import Adapter, AdapterContext
from adapters.mapping import (
    REQUEST_ROOTS,
    RESPONSE_ROOTS,
    MappingError,
    Template,
    compile_template,
    load_converters,
)
from adapters.registry import AdapterRegistry, RegistryError
from facade.settings import ConfigError, ConfigIssue, Route, Settings
from facade.settings.binding import INVALID, Binder
from facade.settings.issues import did_you_mean

__all__ = ["Backends", "CompiledRoute", "open_backends"]

log = structlog.get_logger("veneer.backends")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class CompiledRoute:
    """A configured route, ready to serve: its templates compiled, its params known."""

    key: str
    method: str
    path: str
    route: Route
    path_params: tuple[str, ...]
    request: Template
    response: Template | None


@dataclass
class Backends:
    """The started adapters of one configuration and its compiled routes."""

    adapters: dict[str, Adapter] = field(default_factory=dict)
    routes: dict[str, CompiledRoute] = field(default_factory=dict)

    async def close(self) -> None:
        for name, adapter in self.adapters.items():
            try:
                await adapter.close()
            except Exception:
                log.exception("adapter close failed", backend=name)


async def open_backends(settings: Settings, registry: AdapterRegistry | None = None) -> Backends:
    """Build and start every adapter and compile every route; raise ConfigError with all issues."""
    registry = registry or AdapterRegistry()
    backends = Backends()
    issues: list[ConfigIssue] = []
    try:
        for name in settings.backends:
            adapter = _build_adapter(settings, name, registry, issues)
            if adapter is None:
                continue
            try:
                await adapter.start()
            except ConfigError as exc:
                issues += exc.issues
                continue
            except Exception as exc:  # a WSDL that does not parse, a schema that will not load
                issues.append(
                    settings.issue(("backends", name), f"the adapter failed to start: {exc}")
                )
                continue
            backends.adapters[name] = adapter
        converters = load_converters()
        for key, route in settings.routes.items():
            compiled = _compile_route(settings, key, route, backends.adapters, converters, issues)
            if compiled is not None:
                backends.routes[key] = compiled
    except BaseException:
        await backends.close()
        raise
    if issues:
        await backends.close()
        raise ConfigError(settings.source, issues)
    return backends


def _build_adapter(
    settings: Settings, name: str, registry: AdapterRegistry, issues: list[ConfigIssue]
) -> Adapter | None:
    backend = settings.backends[name]
    try:
        cls = registry.get(backend.kind)
    except RegistryError as exc:
        issues.append(settings.issue(("backends", name, "kind"), str(exc)))
        return None
    binder = Binder(lambda path: settings.issue(path, "").position)
    options = binder.bind_dataclass(
        dict(backend.options), cls.Options, ("backends", name, "options")
    )
    issues += binder.issues
    if options is INVALID:
        return None
    creds = backend.credentials
    context = AdapterContext(
        backend=name,
        endpoint=backend.endpoint,
        connect_timeout=backend.timeouts.connect,
        read_timeout=backend.timeouts.read,
        username=creds.username,
        password=creds.password.reveal() if creds.password else None,
        api_key=creds.api_key.reveal() if creds.api_key else None,
        base_dir=str(settings.base_dir),
    )
    return cls(context, options)  # type: ignore[call-arg]


def _compile_route(
    settings: Settings,
    key: str,
    route: Route,
    adapters: Mapping[str, Adapter],
    converters: Mapping[str, Any],
    issues: list[ConfigIssue],
) -> CompiledRoute | None:
    where = ("routes", key)
    method, _, path = key.partition(" ")
    params = tuple(_PLACEHOLDER.findall(path))
    ok = True
    adapter = adapters.get(route.backend)
    known = adapter.operations() if adapter is not None else None
    if known is not None and route.operation not in known:
        ok = False
        issues.append(
            settings.issue(
                (*where, "operation"),
                f"backend {route.backend!r} has no operation {route.operation!r}"
                f"{did_you_mean(route.operation, known)}",
                expected="one of: "
                + ", ".join(sorted(known)[:12])
                + (" ..." if len(known) > 12 else ""),
            )
        )
    templates: list[Template | None] = []
    for section, spec, roots, as_null in (
        ("request", route.request, REQUEST_ROOTS, False),
        ("response", route.response, RESPONSE_ROOTS, True),
    ):
        if spec is None:
            templates.append(None)
            continue
        try:
            template = compile_template(
                spec, roots=roots, converters=converters, missing_as_null=as_null
            )
        except MappingError as exc:
            ok = False
            issues += [settings.issue((*where, section, *p), m) for p, m in exc.problems]
            templates.append(None)
            continue
        for ref in sorted(template.references):
            root, _, rest = ref.partition(".")
            name = rest.split(".", 1)[0]
            if root == "path" and name not in params:
                ok = False
                issues.append(
                    settings.issue(
                        (*where, section),
                        f"{ref} is not a parameter of this route's path{did_you_mean(name, params)}",
                        expected="one of: "
                        + (", ".join(params) or "(the path has no {parameters})"),
                    )
                )
        templates.append(template)
    if not ok or templates[0] is None:
        return None
    return CompiledRoute(key, method, path, route, params, templates[0], templates[1])
