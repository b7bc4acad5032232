"""Validate a JSON request body against the route's declared JSON Schema, field by field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from facade.routes.params import FieldError

__all__ = ["BodyValidator", "check_body_schema"]

MAX_DEPTH = 32


def check_body_schema(schema: Mapping[str, Any]) -> str | None:
    """The problem with a declared schema, or None (config validation uses this)."""
    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        return exc.message
    return None


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


class BodyValidator:
    def __init__(self, schema: Mapping[str, Any] | None) -> None:
        self._validator = jsonschema.Draft202012Validator(_plain(schema)) if schema else None

    def validate(self, body: Any) -> list[FieldError]:
        if _depth(body, MAX_DEPTH) > MAX_DEPTH:
            return [FieldError("body", f"nested deeper than {MAX_DEPTH} levels")]
        if self._validator is None:
            if not isinstance(body, dict):
                return [FieldError("body", "must be a JSON object")]
            return []
        errors = []
        for error in sorted(
            self._validator.iter_errors(body), key=lambda e: list(map(str, e.path))
        ):
            where = ".".join(str(part) for part in ("body", *error.path))
            errors.append(FieldError(where, error.message[:300]))
        return errors[:50]


def _plain(value: Any) -> Any:
    """Settings are frozen mappings and tuples; jsonschema wants dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
