"""JSON Schemas for the OpenAPI document: inferred from response templates, plus the problem types.

A response template says the shape of the answer exactly: its keys are the object's properties,
and converters say the types (``decimal`` is a string, ``many2one`` an object or null). A bare
reference could be anything the backend sends, so it is left open. Every property may be null,
because a value the backend leaves out is rendered as null rather than dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.mapping import RESPONSE_ROOTS

__all__ = ["PROBLEM", "VALIDATION_PROBLEM", "schema_of_template"]

_CONVERTED: dict[str, dict[str, Any]] = {
    "decimal": {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"},
    "number": {"type": ["number", "null"]},
    "int": {"type": ["integer", "null"]},
    "bool": {"type": ["boolean", "null"]},
    "str": {"type": ["string", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "utc_datetime": {"type": ["string", "null"], "format": "date-time"},
    "many2one": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
            },
            {"type": "null"},
        ]
    },
    "csv": {"type": "array", "items": {"type": "string"}},
    "upper": {"type": ["string", "null"]},
    "lower": {"type": ["string", "null"]},
}


def schema_of_template(
    spec: Any, roots: frozenset[str] = RESPONSE_ROOTS | {"item"}
) -> dict[str, Any]:
    if isinstance(spec, str):
        if spec.split(".", 1)[0] in roots:
            return {}  # whatever the backend holds there
        return {"const": spec}
    if isinstance(spec, bool):
        return {"const": spec}
    if isinstance(spec, int | float):
        return {"const": spec}
    if spec is None:
        return {"type": "null"}
    if isinstance(spec, Mapping):
        return _mapping(spec, roots)
    if isinstance(spec, list | tuple):
        return {
            "type": "array",
            "items": {"anyOf": [schema_of_template(s, roots) for s in spec]} if spec else {},
        }
    return {}


def _mapping(spec: Mapping[str, Any], roots: frozenset[str]) -> dict[str, Any]:
    if "const" in spec and len(spec) == 1:
        return {"const": spec["const"]}
    if "from" in spec:
        if "lookup" in spec:
            values = sorted(
                {str(v) for v in spec["lookup"].values()}
                | ({str(spec["default"])} if spec.get("default") is not None else set())
            )
            return {"enum": [*values, None]}
        names = spec.get("convert")
        last = names[-1] if isinstance(names, list) and names else names
        return dict(_CONVERTED.get(last, {})) if isinstance(last, str) else {}
    if "sum" in spec:
        return {"type": ["number", "null"]}
    if "when" in spec:
        return schema_of_template(spec.get("value"), roots)
    if "each" in spec:
        alias = spec.get("as", "item")
        return {
            "type": "array",
            "items": schema_of_template(spec.get("map", alias), roots | {alias}),
        }
    properties = {str(k): schema_of_template(v, roots) for k, v in spec.items()}
    return {"type": "object", "properties": properties}


PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. Branch on `code`; quote `request_id` to support.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine-readable error code"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "backend_code": {},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

VALIDATION_PROBLEM = PROBLEM
