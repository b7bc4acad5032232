"""Serve one configured route: validate, call, map, represent.

``handle`` turns an HTTP request into :class:`Inputs` and the produced data into a response;
``produce`` is the part that talks to the backend, reused by ``?include=`` and by a PATCH that
needs the current concurrency token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
import structlog
from aiohttp import web

from adapters.errors import AdapterError, Conflict, NotFound
from adapters.mapping import ConversionError
from facade.middlewares.keys import PRINCIPAL, REQUEST_ID
from facade.problems import Problem, problem_for_adapter_error, problem_for_resilience_error
from facade.routes.caller import BackendCaller
from facade.routes.compile import CompiledRoute
from facade.routes.idempotency import Idempotency, request_key
from facade.routes.outbox import Queued, accepted, enqueue, queueable
from facade.routes.paging import (
    CursorError,
    Page,
    decode_cursor,
    encode_cursor,
    next_state,
    start_page,
)
from facade.routes.params import FieldError
from facade.routes.representation import (
    canonical_json,
    etag_for,
    if_match_token,
    not_modified,
    select_fields,
    token_etag,
)
from facade.security.access import AccessTable
from facade.security.errors import forbidden
from facade.security.principal import ANONYMOUS, Principal
from resilience import Outbox
from resilience.cache import CachePolicy
from resilience.errors import ResilienceError

__all__ = ["Answer", "HandlerContext", "Inputs", "RouteHandler", "conditional"]

if TYPE_CHECKING:
    from facade.routes.caching import RouteCache

log = structlog.get_logger("veneer.routes")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class HandlerContext:
    """What handlers share: the cursor key, idempotency records and each other (includes, tokens).

    ``access`` (set when security is installed) says which scopes an included route needs.
    """

    cursor_secret: bytes
    idempotency: Idempotency | None = None
    cache: RouteCache | None = None
    outbox: Outbox | None = None
    handlers: dict[str, RouteHandler] = field(default_factory=dict)
    access: AccessTable | None = None


@dataclass(frozen=True)
class Answer:
    """A complete answer, before conditionals: what the cache stores and idempotency replays."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    cacheable: bool = True

    def response(self, extra: Mapping[str, str] | None = None) -> web.Response:
        return web.Response(
            status=self.status, body=self.body, headers={**self.headers, **(extra or {})}
        )


def conditional(request: web.Request, response: web.Response) -> web.Response:
    """Answer 304 instead when the client already holds this representation."""
    etag = response.headers.get("ETag")
    if etag and response.status == 200 and not_modified(request.headers.get("If-None-Match"), etag):
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in {"content-type", "content-length"}
        }
        return web.Response(status=304, headers=headers)
    return response


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


@dataclass
class Produced:
    data: Any
    etag_token: str | None = None
    next_state: dict[str, Any] | None = None


def validation_problem(errors: list[FieldError]) -> Problem:
    return Problem(
        400,
        "validation_failed",
        "Invalid request",
        "Some parameters are missing or invalid; see errors.",
        extra={"errors": [e.as_dict() for e in errors]},
    )


class RouteHandler:
    def __init__(
        self, compiled: CompiledRoute, caller: BackendCaller, context: HandlerContext
    ) -> None:
        self.compiled = compiled
        self.route = compiled.route
        self.caller = caller
        self.context = context
        self.label = f"{compiled.route.backend.upper()} backend"
        #: set by the composition root: the route's cache policy or its backend's default (GET only)
        self.cache_policy: CachePolicy | None = None

    # -- HTTP -------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.compiled.method == "GET":
            if self.context.cache is not None and self.cache_policy is not None:
                return await self.context.cache.serve(request, self, self.cache_policy)
            answer = await self.answer(request, None)
            return conditional(request, answer.response())
        response = await self._write(request)
        if self.context.cache is not None and 200 <= response.status < 300:
            self.context.cache.written(request.path)
        return response

    async def _write(self, request: web.Request) -> web.Response:
        key = request_key(request)
        if key is None or self.context.idempotency is None:
            return await self._write_answer(request, None)
        body = await request.read()
        lease = (self.route.timeout or 30.0) + 5.0
        return await self.context.idempotency.run(
            request,
            key,
            scope=f"{request.get(PRINCIPAL, ANONYMOUS).id}:{self.compiled.key}",
            body=body,
            lease_s=lease,
            handler=lambda: self._write_answer(request, key),
        )

    async def _write_answer(self, request: web.Request, key: str | None) -> web.Response:
        """The write's answer; a queued write is a 202, which a keyed retry then replays."""
        try:
            return (await self.answer(request, key)).response()
        except Queued as queued:
            return accepted(queued.entry)

    async def answer(self, request: web.Request, idempotency_key: str | None) -> Answer:
        """The full answer to ``request`` (never a 304: conditionals are decided by the caller)."""
        inputs, fields, includes = await self._inputs(request)
        inputs.idempotency_key = idempotency_key
        if (
            self.compiled.method == "PATCH"
            and self.compiled.etag is not None
            and inputs.etag is None
        ):
            inputs.etag = await self._current_token(inputs)
        produced = await self.produce(inputs)
        data = produced.data
        headers: dict[str, str] = {}
        if self.route.pagination is not None:
            next_url = self._next_url(request, produced.next_state)
            data = {"data": data, "next": next_url}
            if next_url:
                headers["Link"] = f'<{next_url}>; rel="next"'
        complete = True
        if includes:
            complete = await self._include(data, includes, request.get(PRINCIPAL, ANONYMOUS))
        if fields:
            target = data["data"] if self.route.pagination is not None else data
            trimmed, unknown = select_fields(target, fields)
            if unknown:
                raise validation_problem(
                    [FieldError("query.fields", f"unknown field(s): {', '.join(unknown)}")]
                )
            data = {**data, "data": trimmed} if self.route.pagination is not None else trimmed
        body = canonical_json(data)
        headers["ETag"] = token_etag(produced.etag_token) if produced.etag_token else etag_for(body)
        self._representation_headers(headers, data)
        headers["Content-Type"] = "application/json"
        return Answer(self.route.status, body, headers, cacheable=complete)

    async def _inputs(self, request: web.Request) -> tuple[Inputs, list[str], list[str]]:
        path, query, headers, errors = self.compiled.params.validate(
            request.match_info, request.query, request.headers
        )
        body = None
        if self.compiled.method in _WRITES and self.compiled.method != "DELETE":
            body = await self._body(request, errors)
        page = None
        if self.route.pagination is not None:
            page = self._page(request.query, errors)
        fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
        includes = [i.strip() for i in request.query.get("include", "").split(",") if i.strip()]
        for name in includes:
            if name not in self.compiled.includes:
                errors.append(
                    FieldError(
                        "query.include",
                        f"unknown include {name!r}; known: {', '.join(self.compiled.includes)}",
                    )
                )
        etag = None
        if_match = request.headers.get("If-Match")
        if if_match is not None and self.compiled.etag is not None:
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
        caller = request.get(PRINCIPAL, ANONYMOUS).id
        return Inputs(path, query, headers, body, page, etag, caller=caller), fields, includes

    async def _body(self, request: web.Request, errors: list[FieldError]) -> Any:
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
        errors.extend(self.compiled.body.validate(body))
        return body

    def _page(self, query: Mapping[str, str], errors: list[FieldError]) -> Page | None:
        spec = self.route.pagination
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
                    self.context.cursor_secret, self.compiled.key, query["cursor"]
                )
            return start_page(spec, limit, state)
        except CursorError as exc:
            errors.append(FieldError("query.cursor", str(exc)))
        except ValueError as exc:
            errors.append(FieldError("query.limit", str(exc)))
        return None

    def _next_url(self, request: web.Request, state: dict[str, Any] | None) -> str | None:
        if state is None:
            return None
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        query["cursor"] = encode_cursor(self.context.cursor_secret, self.compiled.key, state)
        return f"{request.path}?{urlencode(query)}"

    def _representation_headers(self, headers: dict[str, str], data: Any) -> None:
        route = self.route
        if route.cache_control:
            headers["Cache-Control"] = route.cache_control
        elif self.compiled.method != "GET":
            headers["Cache-Control"] = "no-store"
        elif route.cache is not None:
            headers["Cache-Control"] = f"private, max-age={int(route.cache.ttl)}"
        else:
            headers["Cache-Control"] = "private, no-cache"
        if route.deprecation:
            headers["Deprecation"] = route.deprecation
        if route.sunset:
            headers["Sunset"] = route.sunset
        if route.location and isinstance(data, Mapping):
            try:
                headers["Location"] = route.location.format(**data)
            except (KeyError, IndexError):
                log.warning("location template names a missing field", route=self.compiled.key)

    # -- backend ----------------------------------------------------------------------------
    async def produce(self, inputs: Inputs) -> Produced:
        scope: dict[str, Any] = {
            "path": inputs.path,
            "query": inputs.query,
            "header": inputs.headers,
            "body": inputs.body,
            "page": inputs.page.scope() if inputs.page else {},
            "etag": inputs.etag,
        }
        fan = self.route.fan_out
        if fan is not None:
            return await self._fan_out(scope, fan.over, fan.as_, fan.max)
        params = self._params(scope)
        try:
            result = await self._call(
                params, if_match=inputs.etag is not None, keyed=inputs.idempotency_key is not None
            )
        except Problem as problem:
            if self._queues(problem):
                raise Queued(await self._enqueue(params, inputs)) from problem
            raise
        if self.compiled.unwrap is not None:
            result = self.compiled.unwrap.render({"result": result})
        if self.route.single and isinstance(result, list | tuple):
            result = result[0] if result else None
        if result is None and self.compiled.method == "GET":
            raise Problem(404, "not_found", "Not found", "The requested resource does not exist.")
        if self.compiled.answer_with is not None:
            return await self._answer_with({**scope, "result": result})
        token = None
        if self.compiled.etag is not None and result is not None:
            found = self.compiled.etag.render({"result": result})
            token = str(found) if found not in (None, "") else None
        if self.route.pagination is not None and inputs.page is not None:
            return self._paginate(scope, result, inputs.page, token)
        return Produced(self._map({**scope, "result": result}, result), token)

    def _paginate(
        self, scope: dict[str, Any], result: Any, page: Page, token: str | None
    ) -> Produced:
        assert self.compiled.items is not None and self.route.pagination is not None
        items = self.compiled.items.render({**scope, "result": result}) or []
        if not isinstance(items, list | tuple):
            items = [items]
        more = len(items) > page.limit
        items = list(items[: page.limit])
        data = [self._map({**scope, "result": result, "item": item}, item) for item in items]
        state = None
        if more and items:
            bookmark = (
                self.compiled.bookmark.render({"item": items[-1]})
                if self.compiled.bookmark
                else None
            )
            state = next_state(self.route.pagination, page, bookmark)
        return Produced(data, token, state)

    async def _fan_out(self, scope: dict[str, Any], over: str, alias: str, most: int) -> Produced:
        root, _, name = over.partition(".")
        values = scope.get(root, {}).get(name) or []
        if not isinstance(values, list):
            values = [values]
        if len(values) > most:
            raise validation_problem([FieldError(over, f"at most {most} values")])
        calls = [
            self._call(self._params({**scope, alias: value}), if_match=False) for value in values
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        data = []
        for value, result in zip(values, results, strict=True):
            if isinstance(result, Problem) and result.code == "not_found":
                data.append({alias: value, "error": {"code": result.code, "title": result.title}})
            elif isinstance(result, BaseException):
                raise result
            else:
                data.append(self._map({**scope, alias: value, "result": result}, result))
        return Produced(data)

    def _queues(self, problem: Problem) -> bool:
        return (
            self.route.outbox is not None
            and self.context.outbox is not None
            and self.compiled.method in _WRITES
            and problem.__cause__ is not None
            and queueable(problem.__cause__)
        )

    async def _enqueue(self, params: Any, inputs: Inputs) -> Any:
        assert self.route.outbox is not None and self.context.outbox is not None
        resource_param = self.route.outbox.resource
        resource = None
        if resource_param is not None and resource_param in inputs.path:
            resource = f"{self.route.backend}:{inputs.path[resource_param]}"
        return await enqueue(
            self.context.outbox,
            route_key=self.compiled.key,
            backend=self.route.backend,
            operation=self.route.operation,
            params=params,
            path=inputs.path,
            resource=resource,
            idempotency_key=inputs.idempotency_key,
            max_attempts=self.route.outbox.max_attempts,
            request_id=inputs.headers.get("X-Request-ID"),
            caller=inputs.caller,
        )

    def map_result(self, scope: Mapping[str, Any], fallback: Any) -> Any:
        """Map a backend result as this route would (the operations view uses it)."""
        return self._map(scope, fallback)

    def _params(self, scope: Mapping[str, Any]) -> Any:
        try:
            return self.compiled.request.render(scope)
        except ConversionError as exc:
            raise Problem(400, "invalid_parameter", "Invalid parameter", str(exc)) from exc

    def _map(self, scope: Mapping[str, Any], fallback: Any) -> Any:
        if self.compiled.response is None:
            return fallback
        try:
            return self.compiled.response.render(scope)
        except ConversionError as exc:
            log.warning("response mapping failed", route=self.compiled.key, reason=str(exc))
            raise Problem(
                502,
                "bad_gateway",
                "Bad gateway",
                f"The {self.label} sent a value the gateway could not convert.",
            ) from exc
        except AdapterError as exc:  # a converter found a failure in the data (SAP RETURN)
            raise problem_for_adapter_error(exc, backend_label=self.label) from exc

    async def _call(self, params: Any, *, if_match: bool, keyed: bool = False) -> Any:
        # A write may be retried only when the client made it safe with an Idempotency-Key.
        try:
            return await self.caller.call(
                self.route.backend,
                self.route.operation,
                params,
                timeout=self.route.timeout,
                idempotent=self.compiled.read_only or keyed,
            )
        except ResilienceError as exc:
            log.warning(
                "backend call declined",
                backend=self.route.backend,
                operation=self.route.operation,
                error=type(exc).__name__,
                reason=str(exc),
            )
            raise problem_for_resilience_error(exc, backend_label=self.label) from exc
        except AdapterError as exc:
            log.warning(
                "backend call failed",
                backend=self.route.backend,
                operation=self.route.operation,
                error=type(exc).__name__,
                reason=str(exc),
            )
            if isinstance(exc, Conflict) and if_match:
                raise Problem(
                    412,
                    "precondition_failed",
                    "Precondition failed",
                    "The resource changed since that ETag was issued; fetch it again.",
                ) from exc
            if isinstance(exc, NotFound) and self.compiled.method in {"POST", "PUT"}:
                raise Problem(
                    422,
                    "reference_not_found",
                    "Unprocessable request",
                    f"The {self.label} refused the request: a record it refers to does not exist.",
                ) from exc
            raise problem_for_adapter_error(exc, backend_label=self.label) from exc

    async def _answer_with(self, scope: Mapping[str, Any]) -> Produced:
        """Answer a write with the resource as its GET route shows it (same shape, same ETag)."""
        assert self.route.answer_with is not None and self.compiled.answer_with is not None
        reader = self.context.handlers[self.route.answer_with.route]
        return await reader.produce_from(self.compiled.answer_with.render(scope))

    async def produce_from(self, params: Mapping[str, Any]) -> Produced:
        """This route's answer for params another route rendered (includes, answer_with).

        The params go through this route's own validation, as a client's would.
        """
        raw = {
            k: ",".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in params.items()
            if v is not None
        }
        path = {k: v for k, v in raw.items() if k in self.compiled.path_params}
        query = {k: v for k, v in raw.items() if k not in path}
        valid_path, valid_query, _, errors = self.compiled.params.validate(path, query, {})
        if errors:
            raise validation_problem(errors)
        page = start_page(self.route.pagination, None, None) if self.route.pagination else None
        return await self.produce(Inputs(valid_path, valid_query, {}, None, page))

    async def _current_token(self, inputs: Inputs) -> str | None:
        """A PATCH without If-Match reads the current concurrency token through the GET route."""
        reader = self.context.handlers.get(f"GET {self.compiled.path}")
        if reader is None:
            return None
        produced = await reader.produce(replace(inputs, body=None, etag=None, query={}))
        return produced.etag_token

    # -- includes ---------------------------------------------------------------------------
    async def _include(self, data: Any, names: list[str], principal: Principal) -> bool:
        """Embed the named includes; False when a part failed for now (such answers are not cached).

        Each included route's scopes are checked like its own requests': an include the caller
        may not read is reported under ``unavailable`` as ``forbidden``, never fetched.
        """
        if not isinstance(data, dict):
            return True
        results = await asyncio.gather(
            *(self._one_include(name, data, principal) for name in names)
        )
        complete = True
        for name, (value, problem) in zip(names, results, strict=True):
            data[name] = value
            if problem is not None:
                complete = complete and problem.status < 500
                data.setdefault("unavailable", {})[name] = {
                    "code": problem.code,
                    "title": problem.title,
                }
        return complete

    async def _one_include(
        self, name: str, data: dict[str, Any], principal: Principal
    ) -> tuple[Any, Problem | None]:
        include = self.route.include[name]
        target = self.context.handlers[include.route]
        if self.context.access is not None:
            access = self.context.access.for_route(include.route)
            if not access.public and not principal.allows(access.scopes):
                return None, forbidden(principal.missing(access.scopes))
        try:
            produced = await target.produce_from(
                self.compiled.includes[name].render({"result": data})
            )
        except Problem as problem:
            return None, problem
        return produced.data, None
