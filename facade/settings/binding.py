"""Bind plain data to frozen dataclasses, collecting every problem with its dotted path.

The dataclasses are the schema: their type hints say what a value must be, and each field's
``metadata`` may add ``help`` (a one-line description), bounds (``ge``, ``gt``, ``le``, ``lt``)
and ``unit="seconds"`` (which also accepts ``"250ms"``, ``"2s"``, ``"5m"``, ``"1h"``). A
:class:`Secret` is a ``${VAR}`` reference or ``{file: path}`` (a file such as a Kubernetes or
Docker secret, relative to the configuration file), never a literal. A
``__post_init__`` that raises ``ValueError`` reports its message at the object's path. The same
hints generate the JSON Schema (``facade.settings.schema``), so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from facade.settings.issues import ConfigIssue, Path_, did_you_mean
from facade.settings.secret import Secret
from facade.settings.source import UNRESOLVED, EnvStr

__all__ = ["INVALID", "Binder", "parse_seconds"]

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "<invalid>"})()
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_seconds(text: str) -> float | None:
    match = _DURATION.match(text)
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else None


class Binder:
    """Bind one document; ``issues`` holds everything found wrong."""

    def __init__(
        self, locate: Callable[[Path_], tuple[int, int] | None], base_dir: Path | None = None
    ) -> None:
        self._locate = locate
        self._base_dir = base_dir
        self.issues: list[ConfigIssue] = []

    def issue(self, path: Path_, message: str, **kw: Any) -> Any:
        self.issues.append(ConfigIssue(path, message, position=self._locate(path), **kw))
        return INVALID

    def bind(self, data: Any, hint: Any, path: Path_, meta: Mapping[str, Any] | None = None) -> Any:
        if data is UNRESOLVED:
            return INVALID
        meta = meta or {}
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            return self.bind(data, typing.get_args(hint)[0], path, meta)
        if hint is Any:
            return data
        if origin in (typing.Union, types.UnionType):
            return self._union(data, typing.get_args(hint), path, meta)
        if origin is typing.Literal:
            return self._literal(data, typing.get_args(hint), path)
        if origin is tuple:
            return self._tuple(data, typing.get_args(hint)[0], path, meta)
        if origin in (dict, Mapping) or hint in (dict, Mapping):
            args = typing.get_args(hint)
            return self._mapping(data, args[1] if args else Any, path)
        if dataclasses.is_dataclass(hint):
            return self.bind_dataclass(data, typing.cast(type, hint), path)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return self._literal(data, tuple(m.value for m in hint), path, convert=hint)
        if hint is Secret:
            return self._secret(data, path)
        return self._scalar(data, hint, path, meta)

    def bind_dataclass(self, data: Any, cls: type, path: Path_) -> Any:
        if not isinstance(data, dict):
            return self.issue(path, "wrong type", value=data, expected="a mapping of fields")
        fields = {
            f.metadata.get("alias", f.name): f
            for f in dataclasses.fields(cls)
            if f.init and not f.metadata.get("internal")
        }
        hints = typing.get_type_hints(cls, include_extras=True)
        for key in data:
            if key not in fields:
                self.issue(
                    (*path, key),
                    f"unknown key{did_you_mean(key, fields)}",
                    expected="one of: " + ", ".join(sorted(fields)),
                )
        values: dict[str, Any] = {}
        for key, fld in fields.items():
            name = fld.name
            if key in data:
                values[name] = self.bind(data[key], hints[name], (*path, key), fld.metadata)
            elif _is_required(fld):
                help_ = fld.metadata.get("help")
                values[name] = self.issue(
                    (*path, key),
                    "missing required field",
                    expected=help_ or _describe(hints[name]),
                )
        if any(value is INVALID for value in values.values()):
            return INVALID
        try:
            return cls(**values)
        except (ValueError, TypeError) as exc:
            return self.issue(path, str(exc))

    def _union(
        self, data: Any, members: tuple[Any, ...], path: Path_, meta: Mapping[str, Any]
    ) -> Any:
        if type(None) in members and (data is None or (isinstance(data, EnvStr) and not data)):
            return None  # `${VAR:-}` with VAR unset means "not set"
        candidates = [m for m in members if m is not type(None)]
        if len(candidates) == 1:
            return self.bind(data, candidates[0], path, meta)
        if isinstance(data, dict):
            shaped = [m for m in candidates if dataclasses.is_dataclass(m) or _is_mapping(m)]
        elif isinstance(data, list):
            shaped = [m for m in candidates if typing.get_origin(m) is tuple]
        else:
            shaped = [
                m for m in candidates if not dataclasses.is_dataclass(m) and not _is_mapping(m)
            ]
        if not shaped:
            expected = " or ".join(_describe(m) for m in candidates)
            return self.issue(path, "wrong type", value=data, expected=expected)
        # Try the scalar alternatives quietly; report against the last one if none fits.
        for member in shaped[:-1]:
            trial = Binder(self._locate, self._base_dir)
            result = trial.bind(data, member, path, meta)
            if result is not INVALID and not trial.issues:
                return result
        return self.bind(data, shaped[-1], path, meta)

    def _literal(
        self,
        data: Any,
        choices: tuple[Any, ...],
        path: Path_,
        convert: Callable[[Any], Any] = lambda v: v,
    ) -> Any:
        if isinstance(data, str | int) and not isinstance(data, bool) and data in choices:
            return convert(data)
        shown = ", ".join(str(c) for c in choices)
        hint = did_you_mean(str(data), [str(c) for c in choices]) if isinstance(data, str) else ""
        return self.issue(
            path, f"not an allowed value{hint}", value=data, expected=f"one of: {shown}"
        )

    def _tuple(self, data: Any, item: Any, path: Path_, meta: Mapping[str, Any]) -> Any:
        if isinstance(data, str) and meta.get("comma_separated"):
            data = [part.strip() for part in data.split(",") if part.strip()]
        if not isinstance(data, list):
            return self.issue(
                path, "wrong type", value=data, expected=f"a list of {_describe(item)}"
            )
        items = [self.bind(value, item, (*path, i), meta) for i, value in enumerate(data)]
        return INVALID if any(v is INVALID for v in items) else tuple(items)

    def _mapping(self, data: Any, value_hint: Any, path: Path_) -> Any:
        if not isinstance(data, dict):
            return self.issue(path, "wrong type", value=data, expected="a mapping")
        bound = {key: self.bind(value, value_hint, (*path, key)) for key, value in data.items()}
        return (
            INVALID if any(v is INVALID for v in bound.values()) else types.MappingProxyType(bound)
        )

    def _secret(self, data: Any, path: Path_) -> Any:
        if isinstance(data, dict) and set(data) == {"file"} and isinstance(data["file"], str):
            return self._secret_file(data["file"], path)
        if not isinstance(data, str):
            return self.issue(
                path,
                "wrong type",
                value="<hidden>",
                expected="a ${VAR} reference or {file: path}",
            )
        if not isinstance(data, EnvStr):
            return self.issue(
                path,
                "secrets never live in config files",
                expected="an environment reference such as ${ERP_PASSWORD}",
            )
        return Secret(str(data))

    def _secret_file(self, name: str, path: Path_) -> Any:
        """A secret read from a file (trailing newline dropped); the file's text is never shown."""
        file = Path(name)
        if not file.is_absolute():
            file = (self._base_dir or Path.cwd()) / file
        try:
            text = file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            )
            return self.issue(
                (*path, "file"), f"cannot read the secret file {name!r}: {reason}", value=str(file)
            )
        if not text:
            return self.issue((*path, "file"), f"the secret file {name!r} is empty")
        return Secret(text)

    def _scalar(self, data: Any, hint: Any, path: Path_, meta: Mapping[str, Any]) -> Any:
        value = _coerce(data, hint, meta)
        if value is INVALID:
            return self.issue(path, "wrong type", value=data, expected=_describe(hint, meta))
        for key, test, word in (
            ("ge", lambda v, b: v >= b, "≥"),
            ("gt", lambda v, b: v > b, ">"),
            ("le", lambda v, b: v <= b, "≤"),
            ("lt", lambda v, b: v < b, "<"),
        ):
            if key in meta and not test(value, meta[key]):
                return self.issue(
                    path, "out of range", value=data, expected=f"a value {word} {meta[key]}"
                )
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            return self.issue(
                path, "badly formed", value=data, expected=meta.get("pattern_help", pattern)
            )
        return value


def _coerce(data: Any, hint: Any, meta: Mapping[str, Any]) -> Any:
    from_env = isinstance(data, EnvStr)
    if hint is str:
        return str(data) if isinstance(data, str) else INVALID
    if hint is bool:
        if isinstance(data, bool):
            return data
        if from_env and data.strip().lower() in _TRUE | _FALSE:
            return data.strip().lower() in _TRUE
        return INVALID
    if hint is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if from_env and data.strip().lstrip("-").isdigit():
            return int(data)
        return INVALID
    if hint is float:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
        if isinstance(data, str) and (meta.get("unit") == "seconds" or from_env):
            seconds = parse_seconds(data) if meta.get("unit") == "seconds" else _float_or_none(data)
            return INVALID if seconds is None else seconds
        return INVALID
    return data if isinstance(hint, type) and isinstance(data, hint) else INVALID


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_required(fld: dataclasses.Field[Any]) -> bool:
    return fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING


def _is_mapping(hint: Any) -> bool:
    return typing.get_origin(hint) in (dict, Mapping) or hint in (dict, Mapping)


def _describe(hint: Any, meta: Mapping[str, Any] | None = None) -> str:
    meta = meta or {}
    if hint is float and meta.get("unit") == "seconds":
        return "a duration in seconds (a number, or text such as 250ms, 2s, 5m)"
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if hint in names:
        return names[hint]
    if dataclasses.is_dataclass(hint):
        return "a mapping of fields"
    if typing.get_origin(hint) is tuple:
        return "a list"
    if typing.get_origin(hint) is typing.Literal:
        return "one of: " + ", ".join(str(c) for c in typing.get_args(hint))
    return getattr(hint, "__name__", str(hint))
