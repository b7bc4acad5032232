"""Render the configuration reference (docs/configuration.md) from the settings dataclasses.

``python -m facade.settings.reference > docs/configuration.md`` regenerates it; a test fails
when the committed file and the code disagree.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from facade.settings.model import Settings
from facade.settings.secret import Secret

__all__ = ["render_reference"]

_INTRO = """\
# Configuration reference

Generated from the settings classes by `python -m facade.settings.reference`; do not edit by
hand. The JSON Schema for editors comes from the same classes: `veneer config-schema`.

Conventions:
- Durations are seconds, written as numbers or with a unit: `250ms`, `2s`, `5m`, `1h`.
- Any value may be a `${VAR}` or `${VAR:-default}` reference to the environment; secrets
  (`password`, `api_key`, `auth.jwt.secret`, `ops.*_token`) must be, or `{file: path}` naming
  a file that holds the secret (a Docker or Kubernetes secret).
- Relative paths are relative to the configuration file.
- `veneer check-config FILE` reports every problem with its file, line, dotted path, the bad
  value and what was expected.
"""


def render_reference(extra: Iterable[tuple[str, type]] = ()) -> str:
    """The whole reference; ``extra`` adds sections such as adapter kinds' ``options``."""
    sections: list[str] = [_INTRO]
    seen: set[type] = set()
    _section("Top level", Settings, sections, seen)
    for title, cls in extra:
        _section(title, cls, sections, seen)
    return "\n".join(sections).rstrip() + "\n"


def _section(title: str, cls: type, out: list[str], seen: set[type]) -> None:
    if cls in seen:
        return
    seen.add(cls)
    hints = typing.get_type_hints(cls, include_extras=True)
    out.append(f"## {title}\n")
    doc = " ".join((cls.__doc__ or "").split())
    if doc and not doc.startswith(f"{cls.__name__}("):
        out.append(doc + "\n")
    out.append("| key | type | default | meaning |\n|---|---|---|---|")
    nested: list[tuple[str, type]] = []
    for fld in dataclasses.fields(cls):
        if fld.metadata.get("internal"):
            continue
        hint = hints[fld.name]
        out.append(
            f"| `{fld.metadata.get('alias', fld.name)}` | {_type_name(hint, fld.metadata)} | {_default(fld)} "
            f"| {fld.metadata.get('help', '')} |"
        )
        key = f"{fld.name}.<name>" if _is_mapping(hint) else fld.name
        for inner in _dataclasses_in(hint):
            nested.append((key if title == "Top level" else f"{title}.{key}", inner))
    out.append("")
    for inner_title, inner in nested:
        _section(inner_title, inner, out, seen)


def _is_mapping(hint: Any) -> bool:
    return typing.get_origin(hint) in (dict, Mapping) or hint in (dict, Mapping)


def _dataclasses_in(hint: Any) -> list[type]:
    if dataclasses.is_dataclass(hint):
        return [typing.cast(type, hint)]
    return [inner for arg in typing.get_args(hint) for inner in _dataclasses_in(arg)]


def _type_name(hint: Any, meta: Mapping[str, Any]) -> str:
    origin = typing.get_origin(hint)
    if hint is float and meta.get("unit") == "seconds":
        return "duration"
    if hint is Secret:
        return "secret (`${VAR}` or `{file: path}`)"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return (
            " or ".join(_type_name(a, meta) for a in typing.get_args(hint) if a is not type(None))
            + ", optional"
        )
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(hint)[0], {})}"
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        args = typing.get_args(hint)
        return f"map of {_type_name(args[1], {})}" if args else "map"
    if dataclasses.is_dataclass(hint):
        return "section"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(hint, "any")


def _default(fld: dataclasses.Field[Any]) -> str:
    if fld.default is not dataclasses.MISSING:
        return "—" if fld.default is None else f"`{fld.default!r}`".replace("'", '"')
    if fld.default_factory is not dataclasses.MISSING:
        return "(see section)" if dataclasses.is_dataclass(fld.default_factory) else "empty"
    return "**required**"


def builtin_adapter_sections() -> list[tuple[str, type]]:
    """One section per built-in adapter kind's ``options`` block."""
    from adapters.registry import BUILTIN_ADAPTERS, AdapterRegistry

    registry = AdapterRegistry(discover=list)
    return [
        (f"backends.<name>.options (kind: {kind})", registry.get(kind).Options)
        for kind in BUILTIN_ADAPTERS
    ]


if __name__ == "__main__":
    print(render_reference(builtin_adapter_sections()), end="")
