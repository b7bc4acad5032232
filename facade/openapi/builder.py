"""Build the OpenAPI 3.1 document from the configured routes: what the server does, described."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from facade.openapi.schemas import PROBLEM, schema_of_template
from facade.security.access import AccessTable, RouteAccess
from facade.settings import Param, Route, Settings

__all__ = ["build_openapi"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_PROBLEMS = {
    "400": "Invalid parameters or body (see `errors`)",
    "404": "No such resource, or no such route",
    "413": "Request body too large",
    "415": "Body is not application/json",
    "422": "The backend system refused the operation",
    "500": "The gateway failed unexpectedly",
    "502": "The backend system answered something unusable, or refused the gateway's credentials",
    "503": "The backend system is unavailable; see Retry-After",
    "504": "The backend system did not answer in time",
}


def build_openapi(
    settings: Settings, *, title: str = "veneer gateway", version: str = "1"
) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    access = AccessTable.from_settings(settings)
    for key, route in settings.routes.items():
        method, _, path = key.partition(" ")
        operation = _operation(key, method, path, route, settings)
        _secure(operation, access.for_route(key), settings)
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "One REST/JSON API over the company's legacy systems. Errors are RFC 9457 "
            "problems (`application/problem+json`) with a stable `code` and the `request_id`.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Problem": PROBLEM},
            "securitySchemes": _security_schemes(settings),
            "headers": {
                "RateLimit": {
                    "description": 'draft-ietf-httpapi-ratelimit-headers: "policy";r=<requests left>;t=<seconds until full>',
                    "schema": {"type": "string"},
                },
                "RateLimit-Policy": {
                    "description": '"policy";q=<burst>;w=<seconds an empty bucket takes to refill>',
                    "schema": {"type": "string"},
                },
                "ETag": {
                    "description": "Strong validator; send it back as If-None-Match or If-Match",
                    "schema": {"type": "string"},
                },
                "X-Request-ID": {
                    "description": "The request's id, also in every log line",
                    "schema": {"type": "string"},
                },
            },
        },
    }


def _security_schemes(settings: Settings) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    if settings.auth.jwt is not None:
        schemes["bearerAuth"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": f"A JWT from {settings.auth.jwt.issuer} for audience "
            f"{settings.auth.jwt.audience}, carrying the route's scopes in `scope`",
        }
    schemes["apiKeyAuth"] = {
        "type": "apiKey",
        "in": "header",
        "name": settings.auth.api_keys.header,
        "description": "A server-to-server client's API key",
    }
    return schemes


def _problem(text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": text,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if headers:
        response["headers"] = headers
    return response


def _secure(operation: dict[str, Any], access: RouteAccess, settings: Settings) -> None:
    """Who may call the operation (OpenAPI 3.1: role names allowed for non-OAuth schemes)."""
    responses = operation["responses"]
    if access.public:
        operation["security"] = []
    else:
        requirements: list[dict[str, list[str]]] = []
        if settings.auth.jwt is not None:
            requirements.append({"bearerAuth": list(access.scopes)})
        requirements.append({"apiKeyAuth": list(access.scopes)})
        operation["security"] = requirements
        scopes = ", ".join(access.scopes) or "none"
        operation["description"] = (
            operation.get("description", "") + f"\n\nRequired scopes: {scopes}."
        ).strip()
        www = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses["401"] = _problem("No credential, or one that did not verify", www)
        responses["403"] = _problem("The caller lacks a scope this route needs", www)
    if access.limit is not None:
        limit_headers = {
            "RateLimit": {"$ref": "#/components/headers/RateLimit"},
            "RateLimit-Policy": {"$ref": "#/components/headers/RateLimit-Policy"},
        }
        responses["429"] = _problem(
            "Too many requests from this caller to this route; see Retry-After",
            {**limit_headers, "Retry-After": {"schema": {"type": "integer"}}},
        )
        for status, response in responses.items():
            if status.startswith("2"):
                response.setdefault("headers", {}).update(limit_headers)
    operation["responses"] = dict(sorted(responses.items()))


def _operation_id(method: str, path: str) -> str:
    words = [method.lower()]
    for segment in path.split("/")[3:]:
        match = _PLACEHOLDER.fullmatch(segment)
        words.append(
            f"by_{match.group(1)}" if match else re.sub(r"[^a-z0-9]+", "_", segment.lower())
        )
    return "_".join(words)


def _param_schema(param: Param) -> dict[str, Any]:
    scalar: dict[str, Any] = {"type": param.items if param.type == "array" else param.type}
    if scalar["type"] == "string":
        scalar["maxLength"] = param.max_length
    if param.enum:
        scalar["enum"] = list(param.enum)
    if param.pattern:
        scalar["pattern"] = f"^(?:{param.pattern})$"
    if param.minimum is not None:
        scalar["minimum"] = param.minimum
    if param.maximum is not None:
        scalar["maximum"] = param.maximum
    if param.type == "array":
        return {"type": "array", "items": scalar, "maxItems": param.max_items}
    if param.default is not None:
        scalar["default"] = param.default
    return scalar


def _parameters(method: str, path: str, route: Route) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in _PLACEHOLDER.findall(path):
        declared = route.params.get(name) or Param(in_="path", required=True, max_length=128)
        out.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": declared.description,
                "schema": _param_schema(declared),
            }
        )
    for name, param in route.params.items():
        if param.in_ == "path":
            continue
        entry: dict[str, Any] = {
            "name": name,
            "in": param.in_,
            "required": param.required,
            "schema": _param_schema(param),
        }
        if param.description:
            entry["description"] = param.description
        if param.type == "array":
            entry.update(style="form", explode=False)
        out.append(entry)
    if method == "GET":
        out.append(
            {
                "name": "fields",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "comma-separated fields to return (dotted for nested), e.g. no,total",
            }
        )
        out.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "an ETag you hold; answered 304 when it is still current",
            }
        )
    if route.pagination is not None:
        out.append(
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": route.pagination.max_limit,
                    "default": route.pagination.default_limit,
                },
            }
        )
        out.append(
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "opaque; take it from the previous page's `next`",
            }
        )
    if route.include:
        out.append(
            {
                "name": "include",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "schema": {"type": "array", "items": {"enum": sorted(route.include)}},
                "description": "related resources to embed in the same answer",
            }
        )
    if route.etag and method in {"PATCH", "PUT"}:
        out.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "the resource's ETag; 412 when it changed since",
            }
        )
    return out


def _success_schema(route: Route, settings: Settings, depth: int = 0) -> dict[str, Any]:
    if route.answer_with is not None and route.answer_with.route in settings.routes and depth < 3:
        return _success_schema(settings.routes[route.answer_with.route], settings, depth + 1)
    body = schema_of_template(route.response) if route.response is not None else {}
    if route.fan_out is not None:
        return {
            "type": "array",
            "items": {
                "anyOf": [
                    body,
                    {
                        "type": "object",
                        "properties": {route.fan_out.as_: {}, "error": {"type": "object"}},
                        "required": ["error"],
                    },
                ]
            },
        }
    if route.pagination is not None:
        return {
            "type": "object",
            "required": ["data", "next"],
            "properties": {
                "data": {"type": "array", "items": body},
                "next": {"type": ["string", "null"]},
            },
        }
    if route.include and body.get("type") == "object" and depth < 3:
        properties = dict(body["properties"])
        for name, include in route.include.items():
            target = settings.routes.get(include.route)
            inner = _success_schema(target, settings, depth + 1) if target else {}
            properties[name] = {"anyOf": [inner, {"type": "null"}]}
        properties["unavailable"] = {
            "type": "object",
            "additionalProperties": {"$ref": "#/components/schemas/Problem"},
        }
        body = {**body, "properties": properties}
    return body


def _responses(method: str, route: Route, settings: Settings) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "ETag": {"$ref": "#/components/headers/ETag"},
        "X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"},
    }
    if route.location:
        headers["Location"] = {
            "schema": {"type": "string"},
            "description": "where the new resource lives",
        }
    responses: dict[str, Any] = {
        str(route.status): {
            "description": "Success",
            "headers": headers,
            "content": {"application/json": {"schema": _success_schema(route, settings)}},
        },
    }
    if method == "GET":
        responses["304"] = {"description": "Not modified: the ETag you sent is current"}
    problems = dict(_PROBLEMS)
    if method in {"PATCH", "PUT", "POST", "DELETE"}:
        problems["409"] = "The resource changed meanwhile (someone else's write)"
        problems["412"] = "If-Match named an ETag that is no longer current"
    for status, text in problems.items():
        responses[status] = {
            "description": text,
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    return dict(sorted(responses.items()))


def _operation(
    key: str, method: str, path: str, route: Route, settings: Settings
) -> dict[str, Any]:
    tag = route.tags or (path.split("/")[3],)
    operation: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": route.summary or key,
        "tags": list(tag),
        "parameters": _parameters(method, path, route),
        "responses": _responses(method, route, settings),
    }
    if route.description:
        operation["description"] = route.description
    if route.deprecation:
        operation["deprecated"] = True
    if method in {"POST", "PUT", "PATCH"}:
        schema = _plain(route.body) if route.body is not None else {"type": "object"}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    return operation


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
