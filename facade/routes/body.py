"""Validate a JSON request body: hostile shapes first, then the route's JSON Schema, field by field.

Before a schema sees it, a body may nest at most :data:`MAX_DEPTH` levels and hold no string
(value or key) longer than ``api.max_string_length``: jsonschema's ``pattern`` and ``format``
checks on a megabyte string are where a small body turns into a lot of CPU. Nor may a string
hold a character XML cannot carry (a control character, U+FFFE, U+FFFF): a SOAP or XML-RPC
request holding one is not XML, and the client, not the backend, should hear about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from facade.routes.params import FieldError, uncarriable

__all__ = ["BodyValidator", "check_body_schema"]

MAX_DEPTH = 32
MAX_STRING_LENGTH = 64 * 1024


def check_body_schema(schema: Mapping[str, Any]) -> str | None:
    """The problem with a declared schema, or None (config validation uses this)."""
    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        return exc.message
    return None


def _hostile(value: Any, max_depth: int, max_string: int) -> FieldError | None:
    """The first limit ``value`` breaks (nesting, or a string or key too long), or None.

    Iterative, so a body nested deeper than Python's recursion limit is measured, not crashed on.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "body")]
    while stack:
        node, depth, where = stack.pop()
        if depth > max_depth:
            return FieldError("body", f"nested deeper than {max_depth} levels")
        if isinstance(node, str):
            if len(node) > max_string:
                return FieldError(where, f"longer than {max_string} characters")
            reason = uncarriable(node)
            if reason is not None:
                return FieldError(where, reason)
        elif isinstance(node, dict):
            for key, child in node.items():
                if len(key) > max_string:
                    return FieldError(where, f"a key longer than {max_string} characters")
                reason = uncarriable(key)
                if reason is not None:
                    return FieldError(where, f"a key {reason}")
                stack.append((child, depth + 1, f"{where}.{key[:64]}"))
        elif isinstance(node, list):
            stack.extend((child, depth + 1, f"{where}.{i}") for i, child in enumerate(node))
    return None


class BodyValidator:
    def __init__(
        self, schema: Mapping[str, Any] | None, *, max_string: int = MAX_STRING_LENGTH
    ) -> None:
        self._validator = jsonschema.Draft202012Validator(_plain(schema)) if schema else None
        self.max_string = max_string

    def validate(self, body: Any) -> list[FieldError]:
        """Field errors of ``body``: size limits first (cheap, and before any schema work)."""
        hostile = _hostile(body, MAX_DEPTH, self.max_string)
        if hostile is not None:
            return [hostile]
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
