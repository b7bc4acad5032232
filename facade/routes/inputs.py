"""What a request asks of a route, validated: parameters, body, page, fields, includes, If-Match.

Every field error is collected and refused together, in one 400 that lists them all. A body that
is not JSON (415, 400) and an If-Match this API did not issue (412) are refused at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from facade.middlewares.keys import PRINCIPAL, REQUEST_ID
from facade.problems import Problem
from facade.routes.paging import CursorError, Page, decode_cursor, start_page
from facade.routes.params import FieldError, validation_problem
from facade.routes.representation import if_match_token
from facade.security.principal import ANONYMOUS

if TYPE_CHECKING:
    from facade.routes.handler import RouteHandler

__all__ = ["WRITES", "Inputs", "read_inputs"]

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Inputs:
    path: dict[str, Any]
    query: dict[str, Any]
    headers: Mapping[str, str]
    body: Any = None
    page: Page | None = None
    etag: str | None = None
    idempotency_key: str | None = None
    caller: str | None = None  # the principal's id: a queued write is visible to it alone
    #: the caller as request templates see it (``auth.subject``, ``auth.kind``, ``auth.scopes``)
    auth: Mapping[str, Any] | None = None


async def read_inputs(
    handler: RouteHandler, request: web.Request
) -> tuple[Inputs, list[str], list[str]]:
    """The request's :class:`Inputs`, with the ``fields`` and ``include`` it asks for."""
    path, query, headers, errors = handler.compiled.params.validate(
        request.match_info, request.query, request.headers
    )
    body = None
    if handler.compiled.method in WRITES and handler.compiled.method != "DELETE":
        body = await read_body(handler, request, errors)
    page = None
    if handler.route.pagination is not None:
        page = read_page(handler, request.query, errors)
    fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
    includes = [i.strip() for i in request.query.get("include", "").split(",") if i.strip()]
    for name in includes:
        if name not in handler.compiled.includes:
            errors.append(
                FieldError(
                    "query.include",
                    f"unknown include {name!r}; known: {', '.join(handler.compiled.includes)}",
                )
            )
    etag = None
    if_match = request.headers.get("If-Match")
    if if_match is not None and handler.compiled.etag is not None:
        etag = if_match_token(if_match)
        if etag is None:
            raise Problem(
                412,
                "precondition_failed",
                "Precondition failed",
                "If-Match does not carry an ETag this API issued; fetch the resource again.",
            )
    if errors:
        raise validation_problem(errors)
    # Templates see declared header parameters only (validated), never the caller's
    # credentials; the request id travels with queued writes.
    headers["X-Request-ID"] = request.get(REQUEST_ID, "")
    principal = request.get(PRINCIPAL, ANONYMOUS)
    inputs = Inputs(
        path, query, headers, body, page, etag, caller=principal.id, auth=principal.template_view()
    )
    return inputs, fields, includes


async def read_body(handler: RouteHandler, request: web.Request, errors: list[FieldError]) -> Any:
    if not request.body_exists:
        errors.append(FieldError("body", "required"))
        return None
    if request.content_type != "application/json":
        raise Problem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as application/json.",
        )
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise Problem(
            400, "invalid_json", "Invalid JSON", f"The body is not valid JSON: {exc}"
        ) from exc
    errors.extend(handler.compiled.body.validate(body))
    return body


def read_page(
    handler: RouteHandler, query: Mapping[str, str], errors: list[FieldError]
) -> Page | None:
    spec = handler.route.pagination
    assert spec is not None
    limit = None
    if "limit" in query:
        if not query["limit"].isdigit():
            errors.append(FieldError("query.limit", "not a whole number"))
            return None
        limit = int(query["limit"])
    state = None
    try:
        if query.get("cursor"):
            state = decode_cursor(
                handler.context.cursor_secret, handler.compiled.key, query["cursor"]
            )
        return start_page(spec, limit, state)
    except CursorError as exc:
        errors.append(FieldError("query.cursor", str(exc)))
    except ValueError as exc:
        errors.append(FieldError("query.limit", str(exc)))
    return None
