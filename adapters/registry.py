"""Adapter kinds by name: the built-ins, and third-party adapters found through entry points.

A third-party package registers an adapter class in its pyproject::

    [project.entry-points."veneer.adapters"]
    as400 = "acme_veneer.as400:As400Adapter"

and a backend declares ``kind: as400``. Classes are checked when first loaded, and an error
names the plugin and what is wrong with it.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from adapters.base import Adapter

__all__ = ["BUILTIN_ADAPTERS", "ENTRY_POINT_GROUP", "AdapterRegistry", "RegistryError"]

ENTRY_POINT_GROUP = "veneer.adapters"
BUILTIN_ADAPTERS = {
    "soap": "adapters.erp:SoapAdapter",
    "xmlrpc": "adapters.crm:XmlRpcAdapter",
    "odoo": "adapters.crm:OdooAdapter",
    "fishbowl": "adapters.wms:FishbowlAdapter",
    "framed-tcp": "adapters.wms:FramedTcpAdapter",
}
_REQUIRED_METHODS = ("start", "operations", "call", "health", "close")


class RegistryError(LookupError):
    """An unknown kind, or an adapter class that does not honour the Adapter protocol."""


class AdapterRegistry:
    """Maps a backend's ``kind`` to its adapter class, loading each class on first use."""

    def __init__(self, *, discover: Callable[[], list[EntryPoint]] | None = None) -> None:
        self._targets: dict[str, str | EntryPoint] = dict(BUILTIN_ADAPTERS)
        plugins = discover() if discover else list(entry_points(group=ENTRY_POINT_GROUP))
        for ep in plugins:
            if ep.name not in BUILTIN_ADAPTERS:  # built-ins cannot be shadowed by accident
                self._targets[ep.name] = ep
        self._loaded: dict[str, type[Adapter]] = {}

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._targets))

    def register(self, kind: str, cls: type) -> None:
        """Register a class directly (tests, embedding applications)."""
        self._loaded[kind] = _checked(kind, cls, origin="register()")
        self._targets[kind] = f"{cls.__module__}:{cls.__qualname__}"

    def get(self, kind: str) -> type[Adapter]:
        if kind in self._loaded:
            return self._loaded[kind]
        target = self._targets.get(kind)
        if target is None:
            import difflib

            close = difflib.get_close_matches(kind, self._targets, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RegistryError(
                f"unknown adapter kind {kind!r}{hint}; known kinds: {', '.join(self.kinds())}"
            )
        origin = (
            target if isinstance(target, str) else f"entry point {target.name} = {target.value}"
        )
        try:
            cls = _load(target)
        except Exception as exc:
            raise RegistryError(f"adapter kind {kind!r} ({origin}) failed to load: {exc}") from exc
        self._loaded[kind] = _checked(kind, cls, origin=origin)
        return self._loaded[kind]


def _load(target: str | EntryPoint) -> object:
    if isinstance(target, EntryPoint):
        return target.load()
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _checked(kind: str, cls: object, *, origin: str) -> type[Adapter]:
    where = f"adapter kind {kind!r} ({origin})"
    if not isinstance(cls, type):
        raise RegistryError(f"{where} is not a class")
    missing = [m for m in _REQUIRED_METHODS if not callable(getattr(cls, m, None))]
    if missing:
        raise RegistryError(f"{where} lacks the Adapter method(s): {', '.join(missing)}")
    options = getattr(cls, "Options", None)
    if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
        raise RegistryError(f"{where} needs an Options dataclass describing its config block")
    return cls
