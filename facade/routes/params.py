"""Validate and coerce a request's path, query and header parameters against a route's declarations.

Nothing reaches a backend unvalidated: undeclared query parameters are refused (a typo such as
``?stauts=Open`` must not silently list everything), every value is bounded in length, and
declared types are coerced (``?limit=10`` arrives as the integer 10). Every path parameter,
declared or not, is also refused when it could address something else: aiohttp decodes ``%2F``
inside a segment, so ``/customers/..%2F..%2Fadmin`` would otherwise arrive as ``../../admin``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from facade.problems import Problem
from facade.settings import Param

__all__ = [
    "RESERVED_QUERY",
    "UNCARRIABLE",
    "FieldError",
    "ParamValidator",
    "uncarriable",
    "validation_problem",
]

#: Query parameters the gateway itself understands on the routes where they apply.
RESERVED_QUERY = {"fields", "limit", "cursor", "include"}
_PATH_DEFAULT = Param(in_="path", required=True, max_length=128)
_PATH_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]|^\.{1,2}$|%(?:2[eEfF]|5[cC]|00)")
#: Characters no text may carry: C0 controls (tab, newline and carriage return excepted) and
#: the noncharacters U+FFFE and U+FFFF. XML 1.0 cannot carry them at all (a SOAP or XML-RPC
#: request holding one is not XML), and no legacy text field wants them.
UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def uncarriable(text: str) -> str | None:
    """Why ``text`` cannot be passed on (the first such character), or None."""
    found = UNCARRIABLE.search(text)
    if found is None:
        return None
    return f"contains U+{ord(found.group()):04X}, a character no XML text can carry"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # e.g. "query.limit"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def validation_problem(errors: list[FieldError]) -> Problem:
    return Problem(
        400,
        "validation_failed",
        "Invalid request",
        "Some parameters are missing or invalid; see errors.",
        extra={"errors": [e.as_dict() for e in errors]},
    )


class ParamValidator:
    def __init__(
        self, declared: Mapping[str, Param], path_params: Iterable[str], reserved: set[str]
    ) -> None:
        self.path = {name: declared.get(name, _PATH_DEFAULT) for name in path_params}
        self.query = {n: p for n, p in declared.items() if p.in_ == "query"}
        self.headers = {n: p for n, p in declared.items() if p.in_ == "header"}
        self.reserved = reserved
        self._patterns = {n: re.compile(p.pattern) for n, p in declared.items() if p.pattern}

    def validate(
        self, path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[FieldError]]:
        errors: list[FieldError] = []
        out_path = self._section("path", self.path, path, errors)
        out_query = self._section("query", self.query, query, errors)
        out_headers = self._section("header", self.headers, headers, errors)
        for name in query:
            if name not in self.query and name not in self.reserved:
                known = sorted({*self.query, *self.reserved})
                errors.append(
                    FieldError(
                        f"query.{name}", f"unknown parameter; known: {', '.join(known) or 'none'}"
                    )
                )
        return out_path, out_query, out_headers, errors

    def _section(
        self,
        where: str,
        specs: Mapping[str, Param],
        given: Mapping[str, str],
        errors: list[FieldError],
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            raw = given.get(name)
            if raw is None or raw == "":
                if spec.required:
                    errors.append(FieldError(f"{where}.{name}", "required"))
                elif spec.default is not None:
                    values[name] = spec.default
                continue
            try:
                values[name] = self._coerce(name, spec, raw)
            except ValueError as exc:
                errors.append(FieldError(f"{where}.{name}", str(exc)))
        return values

    def _coerce(self, name: str, spec: Param, raw: str) -> Any:
        if len(raw) > spec.max_length:
            raise ValueError(f"longer than {spec.max_length} characters")
        if spec.in_ == "path" and _PATH_UNSAFE.search(raw):
            raise ValueError("slashes, dot segments, control or percent-encoded characters")
        if spec.type == "array":
            parts = [part.strip() for part in raw.split(",") if part.strip()]
            if len(parts) > spec.max_items:
                raise ValueError(f"more than {spec.max_items} values")
            return [self._scalar(name, spec, spec.items, part) for part in parts]
        return self._scalar(name, spec, spec.type, raw)

    def _scalar(self, name: str, spec: Param, kind: str, raw: str) -> Any:
        value: Any
        if kind == "integer":
            if not re.fullmatch(r"-?\d{1,18}", raw):
                raise ValueError(f"not an integer: {raw[:40]!r}")
            value = int(raw)
        elif kind == "number":
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"not a number: {raw[:40]!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"not a finite number: {raw[:40]!r}")
        elif kind == "boolean":
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError("not a boolean (true or false)")
            value = raw.lower() in {"true", "1"}
        else:
            value = raw
            if any(ord(c) < 32 for c in raw):
                raise ValueError("control characters are not allowed")
            reason = uncarriable(raw)  # the noncharacters; the controls are refused above
            if reason is not None:
                raise ValueError(reason)
        if spec.enum and str(value) not in spec.enum:
            raise ValueError(f"must be one of: {', '.join(spec.enum)}")
        pattern = self._patterns.get(name)
        if pattern and not pattern.fullmatch(str(value)):
            raise ValueError(f"does not match {spec.pattern}")
        if spec.minimum is not None and isinstance(value, int | float) and value < spec.minimum:
            raise ValueError(f"must be ≥ {spec.minimum:g}")
        if spec.maximum is not None and isinstance(value, int | float) and value > spec.maximum:
            raise ValueError(f"must be ≤ {spec.maximum:g}")
        return value
