"""The adapter registry: built-ins by name, plugins by entry point, each checked when loaded."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from adapters.registry import BUILTIN_ADAPTERS, AdapterRegistry, RegistryError
from tests.support.memory_adapter import MemoryAdapter


class NotAnAdapter:
    """Has no Adapter methods."""


def test_plugins_are_found_by_entry_point() -> None:
    """An entry point in the veneer.adapters group becomes a kind, loaded on first use."""
    ep = EntryPoint("memory", "tests.support.memory_adapter:MemoryAdapter", "veneer.adapters")
    registry = AdapterRegistry(discover=lambda: [ep])
    assert "memory" in registry.kinds()
    assert registry.get("memory") is MemoryAdapter


def test_a_broken_plugin_is_named_with_what_is_wrong() -> None:
    """A plugin class missing Adapter methods is refused, naming the entry point."""
    ep = EntryPoint("broken", "tests.unit.adapters.test_registry:NotAnAdapter", "veneer.adapters")
    registry = AdapterRegistry(discover=lambda: [ep])
    with pytest.raises(
        RegistryError, match=r"'broken' \(entry point broken = .*\) lacks the Adapter method"
    ):
        registry.get("broken")


def test_a_plugin_that_fails_to_import_is_reported() -> None:
    """An entry point whose module does not import gives an error naming it."""
    ep = EntryPoint("ghost", "no_such_module_here:Thing", "veneer.adapters")
    with pytest.raises(RegistryError, match=r"'ghost' .* failed to load"):
        AdapterRegistry(discover=lambda: [ep]).get("ghost")


def test_unknown_kind_suggests_the_nearest() -> None:
    """An unknown kind is answered with a 'did you mean' among the registered kinds."""
    with pytest.raises(RegistryError, match=r"did you mean 'fishbowl'\?"):
        AdapterRegistry(discover=list).get("fishbow")


def test_plugins_cannot_shadow_builtins() -> None:
    """An entry point named like a built-in kind does not replace the built-in."""
    ep = EntryPoint("soap", "tests.support.memory_adapter:MemoryAdapter", "veneer.adapters")
    registry = AdapterRegistry(discover=lambda: [ep])
    assert set(BUILTIN_ADAPTERS) <= set(registry.kinds())
    registry.register("memory", MemoryAdapter)
    assert registry.get("memory") is MemoryAdapter
