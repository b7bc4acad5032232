"""JSON Schema for the configuration file, generated from the settings dataclasses.

Editors (VS Code's YAML extension, JetBrains) use it for completion and inline errors. Anywhere a
number or boolean is expected, a ``${VAR}`` reference is accepted too, as the loader accepts it.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from facade.settings.model import Settings
from facade.settings.secret import Secret

__all__ = ["settings_json_schema"]

_ENV_REFERENCE = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}"}
_DURATION_TEXT = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"}


def settings_json_schema() -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    _dataclass(Settings, definitions)
    root = definitions.pop(Settings.__name__)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:veneer:gateway-config:v1",
        "title": "veneer gateway configuration",
        **root,
        "$defs": definitions,
    }


def _schema_for(hint: Any, meta: Mapping[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _schema_for(typing.get_args(hint)[0], meta, defs)
    if hint is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        members: list[dict[str, Any]] = []
        for member in typing.get_args(hint):
            schema = _schema_for(member, meta, defs)
            # Flatten a member that is itself alternatives (a Secret): editors report one level.
            flat = set(schema) <= {"anyOf", "description"}
            members.extend(schema["anyOf"] if flat and "anyOf" in schema else [schema])
        return {"anyOf": members}
    if origin is typing.Literal:
        return {"anyOf": [{"enum": list(typing.get_args(hint))}, _ENV_REFERENCE]}
    if origin is tuple:
        items = _schema_for(typing.get_args(hint)[0], {}, defs)
        return {"type": "array", "items": items}
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        args = typing.get_args(hint)
        return {
            "type": "object",
            "additionalProperties": _schema_for(args[1], {}, defs) if args else {},
        }
    if dataclasses.is_dataclass(hint):
        return _dataclass(typing.cast(type, hint), defs)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [m.value for m in hint]}
    if hint is Secret:
        return {
            "anyOf": [
                _ENV_REFERENCE,
                {
                    "type": "object",
                    "properties": {"file": {"type": "string"}},
                    "required": ["file"],
                    "additionalProperties": False,
                },
            ],
            "description": "a ${VAR} reference or {file: path}; secrets never live in the file",
        }
    if hint is type(None):
        return {"type": "null"}
    return _scalar(hint, meta)


def _scalar(hint: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        str: {"type": "string"},
        int: {"type": "integer"},
        float: {"type": "number"},
        bool: {"type": "boolean"},
    }.get(hint, {})
    for key, word in (
        ("ge", "minimum"),
        ("gt", "exclusiveMinimum"),
        ("le", "maximum"),
        ("lt", "exclusiveMaximum"),
    ):
        if key in meta and hint in (int, float):
            base[word] = meta[key]
    if "pattern" in meta:
        base["pattern"] = f"^(?:{meta['pattern']})$"
    if hint in (int, float, bool) or "pattern" in meta:
        alternatives = [base, _ENV_REFERENCE]
        if meta.get("unit") == "seconds":
            alternatives.insert(1, _DURATION_TEXT)
        return {"anyOf": alternatives}
    return base


def _dataclass(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    name = cls.__name__
    if name not in defs:
        defs[name] = {}  # placeholder against recursion
        hints = typing.get_type_hints(cls, include_extras=True)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for fld in dataclasses.fields(cls):
            if fld.metadata.get("internal"):
                continue
            prop = _schema_for(hints[fld.name], fld.metadata, defs)
            if "help" in fld.metadata:
                prop = {**prop, "description": fld.metadata["help"]}
            if fld.default is not dataclasses.MISSING and _jsonable(fld.default):
                prop = {**prop, "default": fld.default}
            properties[fld.metadata.get("alias", fld.name)] = prop
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                required.append(fld.metadata.get("alias", fld.name))
        body: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if cls.__doc__:
            body["description"] = " ".join(cls.__doc__.split())
        if required:
            body["required"] = required
        defs[name] = body
    return {"$ref": f"#/$defs/{name}"}


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
