"""Composing backends: adapter options, operations and mappings are checked before serving."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adapters.registry import AdapterRegistry
from facade.backends import open_backends
from facade.settings import ConfigError, Settings, load_settings
from tests.support.memory_adapter import MemoryAdapter

BASE = """
backends:
  mem:
    kind: memory
    endpoint: http://127.0.0.1:1/
    options: {records: {"1": {name: one}}}
routes:
  GET /api/v1/things/{id}:
    backend: mem
    operation: get
    request: {id: path.id}
    response: {name: result.name}
"""


def registry() -> AdapterRegistry:
    reg = AdapterRegistry(discover=list)
    reg.register("memory", MemoryAdapter)
    return reg


def settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(text))
    return load_settings(path, environ={}, kinds=["memory"])


async def issues(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        await open_backends(settings(tmp_path, text), registry())
    return [issue.render() for issue in caught.value.issues]


async def test_valid_config_starts_adapters_and_compiles_routes(tmp_path: Path) -> None:
    """A valid config yields started adapters and one compiled route per configured route."""
    backends = await open_backends(settings(tmp_path, BASE), registry())
    adapter = backends.adapters["mem"]
    assert isinstance(adapter, MemoryAdapter) and adapter.started
    route = backends.routes["GET /api/v1/things/{id}"]
    assert route.path_params == ("id",)
    assert route.request.render({"path": {"id": "1"}}) == {"id": "1"}
    await backends.close()
    assert adapter.closed


async def test_adapter_options_are_validated_with_paths(tmp_path: Path) -> None:
    """A bad value in a backend's options block is reported at backends.<name>.options.<field>."""
    found = await issues(
        tmp_path, BASE.replace("options: {records", "options: {latency: slow, records")
    )
    assert len(found) == 1
    assert "backends.mem.options.latency: wrong type; got 'slow'" in found[0]
    assert found[0].startswith("<config>:6:24:")  # the line and column of the bad value


async def test_unknown_operation_is_a_config_error(tmp_path: Path) -> None:
    """A route naming an operation the backend does not offer fails with a suggestion."""
    (found,) = await issues(tmp_path, BASE.replace("operation: get", "operation: gte"))
    assert "has no operation 'gte' (did you mean 'get'?)" in found


async def test_mapping_errors_are_config_errors_with_the_full_path(tmp_path: Path) -> None:
    """Template problems are reported under routes.<key>.request/response.<field>."""
    text = BASE.replace(
        "response: {name: result.name}", "response: {name: {from: result.name, convert: nope}}"
    )
    (found,) = await issues(tmp_path, text)
    assert 'routes."GET /api/v1/things/{id}".response.name.convert: unknown converter' in found


async def test_path_reference_must_be_a_route_parameter(tmp_path: Path) -> None:
    """A request template reading path.x where the route has no {x} is caught at load."""
    (found,) = await issues(
        tmp_path, BASE.replace("request: {id: path.id}", "request: {id: path.idd}")
    )
    assert "path.idd is not a parameter of this route's path (did you mean 'id'?)" in found


async def test_a_public_route_cannot_pass_the_caller_to_its_backend(tmp_path: Path) -> None:
    """A public route's answers are cached once for everyone, so ``auth.`` in its request
    template is refused at load; the same reference on a guarded route is accepted."""
    guarded = BASE.replace("request: {id: path.id}", "request: {id: path.id, by: auth.subject}")
    (found,) = await issues(
        tmp_path, guarded.replace("operation: get", "operation: get\n    public: true")
    )
    assert 'routes."GET /api/v1/things/{id}".request: auth.subject names the caller' in found
    assert "this route is public" in found
    backends = await open_backends(settings(tmp_path, guarded), registry())
    scope = {"path": {"id": "1"}, "auth": {"subject": "app"}}
    assert backends.routes["GET /api/v1/things/{id}"].request.render(scope) == {
        "id": "1",
        "by": "app",
    }
    await backends.close()


async def test_unknown_kind_from_the_registry_is_reported(tmp_path: Path) -> None:
    """A kind the loader accepted but no adapter registers is reported with the known kinds."""
    text = BASE.replace("kind: memory", "kind: memroy")
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(text))
    loaded = load_settings(path, environ={}, kinds=["memory", "memroy"])
    with pytest.raises(
        ConfigError, match=r"unknown adapter kind 'memroy' \(did you mean 'memory'\?\)"
    ):
        await open_backends(loaded, registry())
