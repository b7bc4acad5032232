"""Serve one configured route: validate, call, map, represent.

``handle`` turns an HTTP request into :class:`Inputs` and the produced data into a response;
``produce`` is the part that talks to the backend, reused by ``?include=`` and by a PATCH that
needs the current concurrency token. The parts live beside it: reading the request in
:mod:`~facade.routes.inputs`, the backend call and mapping in :mod:`~facade.routes.calls`,
includes in :mod:`~facade.routes.includes`, the answer as HTTP in :mod:`~facade.routes.answer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from facade.logs import LogThrottle
from facade.middlewares.keys import PRINCIPAL
from facade.problems import Problem
from facade.routes.answer import Answer, conditional, representation_headers
from facade.routes.caller import BackendCaller
from facade.routes.calls import (
    Produced,
    call_backend,
    fan_out,
    map_response,
    paginate,
    render_params,
)
from facade.routes.compile import CompiledRoute
from facade.routes.idempotency import Idempotency, request_key
from facade.routes.includes import add_includes
from facade.routes.inputs import Inputs, read_inputs
from facade.routes.outbox import Queued, accepted, enqueue_write, queues
from facade.routes.paging import next_page_url, start_page
from facade.routes.params import FieldError, validation_problem
from facade.routes.representation import canonical_json, etag_for, select_fields, token_etag
from facade.security.access import AccessTable
from facade.security.principal import ANONYMOUS
from resilience import Outbox
from resilience.cache import CachePolicy

__all__ = ["Answer", "HandlerContext", "Inputs", "RouteHandler", "conditional"]

if TYPE_CHECKING:
    from facade.routes.caching import RouteCache

#: how often (s) "backend call declined" is logged per backend and reason while declines repeat
DECLINE_LOG_EVERY_S = 1.0


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
    #: says "backend call declined" once in a while, not on every request of an outage
    declines: LogThrottle = field(default_factory=lambda: LogThrottle(DECLINE_LOG_EVERY_S))
    access: AccessTable | None = None


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

    @property
    def cached(self) -> bool:
        """Whether this route's reads are served through the response cache."""
        return self.context.cache is not None and self.cache_policy is not None

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
        inputs, fields, includes = await read_inputs(self, request)
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
            next_url = next_page_url(
                request, self.context.cursor_secret, self.compiled.key, produced.next_state
            )
            data = {"data": data, "next": next_url}
            if next_url:
                headers["Link"] = f'<{next_url}>; rel="next"'
        complete = True
        if includes:
            complete = await add_includes(self, data, includes, request.get(PRINCIPAL, ANONYMOUS))
        if fields:
            target = data["data"] if self.route.pagination is not None else data
            trimmed, unknown = select_fields(target, fields)
            if unknown:
                raise validation_problem(
                    [FieldError("query.fields", f"unknown field(s): {', '.join(unknown)}")]
                )
            data = {**data, "data": trimmed} if self.route.pagination is not None else trimmed
        return self.represent(data, produced.etag_token, headers, complete)

    def represent(
        self,
        data: Any,
        etag_token: str | None,
        headers: dict[str, str] | None = None,
        complete: bool = True,
    ) -> Answer:
        """``data`` as this route's JSON answer, with ``headers`` (the paging Link) first."""
        headers = {} if headers is None else headers
        body = canonical_json(data)
        headers["ETag"] = token_etag(etag_token) if etag_token else etag_for(body)
        representation_headers(self.compiled, headers, data)
        headers["Content-Type"] = "application/json"
        return Answer(self.route.status, body, headers, cacheable=complete)

    # -- backend ----------------------------------------------------------------------------
    async def produce(self, inputs: Inputs) -> Produced:
        scope: dict[str, Any] = {
            "path": inputs.path,
            "query": inputs.query,
            "header": inputs.headers,
            "body": inputs.body,
            "page": inputs.page.scope() if inputs.page else {},
            "etag": inputs.etag,
            "auth": inputs.auth or {},
        }
        fan = self.route.fan_out
        if fan is not None:
            return await fan_out(self, scope, fan.over, fan.as_, fan.max)
        params = render_params(self, scope)
        try:
            result = await call_backend(
                self,
                params,
                if_match=inputs.etag is not None,
                keyed=inputs.idempotency_key is not None,
            )
        except Problem as problem:
            if queues(self, problem):
                raise Queued(await enqueue_write(self, params, inputs)) from problem
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
            return paginate(self, scope, result, inputs.page, token)
        return Produced(map_response(self, {**scope, "result": result}, result), token)

    def map_result(self, scope: Mapping[str, Any], fallback: Any) -> Any:
        """Map a backend result as this route would (the operations view uses it)."""
        return map_response(self, scope, fallback)

    async def _answer_with(self, scope: Mapping[str, Any]) -> Produced:
        """Answer a write with the resource as its GET route shows it (same shape, same ETag)."""
        assert self.route.answer_with is not None and self.compiled.answer_with is not None
        reader = self.context.handlers[self.route.answer_with.route]
        return await reader.produce_from(
            self.compiled.answer_with.render(scope), auth=scope.get("auth")
        )

    async def produce_from(
        self, params: Mapping[str, Any], *, auth: Mapping[str, Any] | None = None
    ) -> Produced:
        """This route's answer for params another route rendered (includes, answer_with), for
        the caller ``auth`` describes.

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
        return await self.produce(Inputs(valid_path, valid_query, {}, None, page, auth=auth))

    async def _current_token(self, inputs: Inputs) -> str | None:
        """A PATCH without If-Match reads the current concurrency token through the GET route."""
        reader = self.context.handlers.get(f"GET {self.compiled.path}")
        if reader is None:
            return None
        produced = await reader.produce(replace(inputs, body=None, etag=None, query={}))
        return produced.etag_token
