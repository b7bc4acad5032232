"""From settings to running adapters and compiled routes, or to a list of configuration errors.

This is the second half of configuration checking: what only the adapters can know. A backend's
``options`` are bound to its kind's ``Options`` dataclass (same rules, same error format as the
rest of the file); adapters are started (WSDLs load here, off the event loop, without contacting
the backend); each route's operation is checked against what the adapter discovered, and its
mappings are compiled. ``veneer check-config`` runs all of it, and so does startup, before any
port opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

from adapters.base import Adapter, AdapterContext
from adapters.mapping import load_converters
from adapters.registry import AdapterRegistry, RegistryError
from facade.routes.compile import CompiledRoute, compile_routes
from facade.settings import ConfigError, ConfigIssue, Settings
from facade.settings.binding import INVALID, Binder

__all__ = ["Backends", "CompiledRoute", "open_backends"]

log = structlog.get_logger("veneer.backends")


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


async def open_backends(
    settings: Settings,
    registry: AdapterRegistry | None = None,
    *,
    reuse: Mapping[str, Adapter] | None = None,
) -> Backends:
    """Build and start every adapter and compile every route; raise ConfigError with all issues.

    Adapters in ``reuse`` (a reload's unchanged backends, already started) are taken as they
    are, and never closed here: they still belong to the generation in service.
    """
    registry = registry or AdapterRegistry()
    reuse = reuse or {}
    backends = Backends()
    started = Backends()
    issues: list[ConfigIssue] = []
    try:
        for name in settings.backends:
            if name in reuse:
                backends.adapters[name] = reuse[name]
                continue
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
            backends.adapters[name] = started.adapters[name] = adapter
        backends.routes = compile_routes(settings, backends.adapters, load_converters(), issues)
    except BaseException:
        await started.close()
        raise
    if issues:
        await started.close()
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
