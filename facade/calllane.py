"""The call lane: an uncached read served from its connection, past aiohttp's request objects.

An uncached ``GET`` of a configured route spends most of the gateway's own time on what aiohttp
builds around the handler (a request object, the application's dispatch, the pipeline's stages,
a response object and its serialization), not on the backend call and the mapping. So the
connection (:mod:`facade.connection`) offers each complete request to :meth:`CallLane.claim`
after the hit lane has passed on it. The lane claims it when the pipeline's answer would depend
only on the route, the caller and the backend (:class:`facade.lanes.Lane`), on a route

- whose reads are not cached (a cached route's misses and stale answers are the cache's work);
- that neither pages its results nor names a ``Location``;
- asked without ``include``, ``fields`` or ``If-Match``, with parameters that validate;

and the caller's bucket has a token. A claimed request is served by a task of its own, through
the same handler code (:meth:`RouteHandler.produce`, :meth:`RouteHandler.represent`), with the
same log context, backend-call record, generation pinning, problem documents, compression,
headers, access line and metrics as the pipeline. The connection holds back any request that
arrives meanwhile and writes the answer in its turn. Every other request goes on to aiohttp
untouched. The tests hold the two paths to the same answers, request by request
(``tests/integration/gateway/test_call_lane.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from time import perf_counter
from typing import Any, NamedTuple

from aiohttp import hdrs, web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage
from aiohttp.typedefs import RawHeaders

from facade.lanes import DECISIONS, Grounds, Lane
from facade.logs import bind_request, start_request
from facade.middlewares.access_log import BACKEND_CALLS, AccessRecorder, PreparedLine
from facade.middlewares.compression import (
    choose_encoding,
    compress_for,
    compressed,
    compressible,
)
from facade.middlewares.pipeline import Security
from facade.middlewares.problems import problem_for
from facade.middlewares.request_id import REQUEST_ID_HEADER, request_id_from
from facade.problems import Problem
from facade.routes.answer import Answer
from facade.routes.handler import RouteHandler
from facade.routes.inputs import Inputs
from facade.serving import Served, Serving

__all__ = ["Call", "CallLane"]

_SERVER = f"Server: {SERVER_SOFTWARE}\r\n"
#: the status lines of the answers so far, by status (a route answers with one or two)
_STATUS_LINES: dict[int, str] = {}
#: query parameters the pipeline reads for itself (what to embed, which fields to keep)
_PIPELINE_QUERY = ("include", "fields")


class CallLane(Lane):
    """Claims uncached reads the pipeline would answer from route, caller and backend alone."""

    def __init__(self, serving: Serving, security: Security, recorder: AccessRecorder) -> None:
        super().__init__(serving, security, recorder)
        self._decided: dict[tuple[str, RawHeaders, str | None], _Decided] = {}
        #: request targets that name no route of the lane's, and the generation that said so
        self._elsewhere: dict[str, Served] = {}
        #: requests the lane has answered
        self.answered = 0

    def claim(self, message: RawRequestMessage, remote: str | None) -> Call | None:
        """The call that answers ``message`` from a client at ``remote``, its checks made, its
        token drawn and its generation pinned; None: the pipeline answers it."""
        started = perf_counter()
        if message.method != "GET" or message.version != HttpVersion11:
            return None
        shape = (message.path, message.raw_headers, remote)
        decided = self._decided.get(shape)
        if decided is None or not self.holds(decided.grounds):
            if self._elsewhere.get(message.path) is self.serving.current:
                return None
            decided = self._decide(message, remote)
            if decided is None:
                return None
            if decided.offered_id is None:  # a client's own request id makes every shape new
                if len(self._decided) >= DECISIONS:
                    self._decided.clear()
                self._decided[shape] = decided
        limit_lines = self.draw(decided.grounds.limit)
        if limit_lines is None:
            return None  # refused without taking a token: the pipeline says 429
        decided.grounds.served.enter()  # as resolving the route does for the pipeline
        return Call(decided, request_id_from(decided.offered_id), limit_lines, started)

    async def answer(self, call: Call) -> bytes:
        """The whole HTTP answer to ``call``'s request, as the pipeline would give it: a
        backend's failure, or the gateway's own, is a problem document. Never raises."""
        decided, request_id = call.decided, call.request_id
        handler, grounds = decided.handler, decided.grounds
        start_request(request_id)
        if grounds.access is not None:
            bind_request(caller=grounds.caller.id)
        calls: list[dict[str, Any]] = []
        BACKEND_CALLS.set(calls)
        try:
            headers = dict(decided.headers)
            headers[REQUEST_ID_HEADER] = request_id  # as read_inputs gives it to templates
            inputs = Inputs(
                dict(decided.path),
                dict(decided.query),
                headers,
                caller=grounds.caller.id,
                auth=decided.auth,
            )
            produced = await handler.produce(inputs)
            answer = handler.represent(produced.data, produced.etag_token)
            status, wire = answer.status, self._wire(answer, call)
        except Exception as error:
            response = self._problem(error, call)
            status, wire = response.status, _serialized(response)
        finally:
            grounds.served.leave()
        decided.line.record(request_id, status, perf_counter() - call.started, None, calls)
        self.answered += 1
        return wire

    def _wire(self, answer: Answer, call: Call) -> bytes:
        """``answer`` as the pipeline sends it: its headers, the RateLimit lines, the body as
        the client accepts it, the request id, then what aiohttp adds."""
        body, coding_lines = answer.body, ""
        content_type = answer.headers.get("Content-Type", "")
        if "Content-Encoding" not in answer.headers and compressible(body, content_type):
            coding = call.decided.coding
            coding_lines = "Vary: Accept-Encoding\r\n"
            if coding is not None:
                body = compressed(body, coding)
                coding_lines += f"Content-Encoding: {coding}\r\n"
        head = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
        status_line = _STATUS_LINES.get(answer.status)
        if status_line is None:
            status_line = _STATUS_LINES[answer.status] = (
                f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}\r\n"
            )
        return (
            f"{status_line}{head}"
            f"{call.limit_lines}{coding_lines}{REQUEST_ID_HEADER}: {call.request_id}\r\n"
            f"Content-Length: {len(body)}\r\nDate: {rfc822_formatted_time()}\r\n{_SERVER}\r\n"
        ).encode() + body

    def _problem(self, error: Exception, call: Call) -> web.Response:
        """The problem document the pipeline answers ``error`` with."""
        if isinstance(error, Problem | web.HTTPException) and call.limit_lines:
            error.headers.update(_header_lines(call.limit_lines))
        path = call.decided.line.path
        response = problem_for(error, call.request_id, "GET", path)
        compress_for(call.decided.accept_encoding, response)
        response.headers[REQUEST_ID_HEADER] = call.request_id
        return response

    def _decide(self, message: RawRequestMessage, remote: str | None) -> _Decided | None:
        """What serving ``message`` needs that depends only on its target and header lines and
        on the configuration; None when the pipeline must answer."""
        if not self.plain(message) or hdrs.IF_MATCH in message.headers:
            return None
        url = message.url
        served = self.serving.current
        found = served.reader(url.path_safe)
        if found is None or not _takes_route(found[0]):
            if found is not None or served.resolved(url.path_safe):  # else: ask again later
                if len(self._elsewhere) >= DECISIONS:
                    self._elsewhere.clear()
                self._elsewhere[message.path] = served
            return None
        handler, template, params = found
        query = url.query
        if any(name in query for name in _PIPELINE_QUERY):
            return None
        path, valid_query, headers, errors = handler.compiled.params.validate(
            params, query, message.headers
        )
        if errors:
            return None  # the pipeline's 400 names them
        grounds = self.grounds(served, template, message, remote)
        if grounds is None:
            return None
        accept_encoding = message.headers.get(hdrs.ACCEPT_ENCODING)
        return _Decided(
            grounds=grounds,
            handler=handler,
            path=path,
            query=valid_query,
            headers=headers,
            auth=grounds.caller.template_view(),
            accept_encoding=accept_encoding,
            coding=choose_encoding(accept_encoding),
            offered_id=message.headers.get(REQUEST_ID_HEADER),
            line=self.recorder.prepared(
                "GET", url.path, template, grounds.client, grounds.line_caller
            ),
        )


def _takes_route(handler: RouteHandler) -> bool:
    """Whether the lane serves reads of ``handler``'s route (see the module's docstring)."""
    route = handler.route
    return not handler.cached and route.pagination is None and not route.location


class _Decided(NamedTuple):
    """What the lane decided for one shape of request (target, header lines, client address),
    valid while its grounds hold: the route, the validated parameters and how to answer."""

    grounds: Grounds
    handler: RouteHandler
    path: dict[str, Any]
    query: dict[str, Any]
    #: the route's declared header parameters, validated
    headers: dict[str, Any]
    #: the caller as request templates see it
    auth: Mapping[str, Any]
    accept_encoding: str | None
    coding: str | None
    offered_id: str | None
    #: the access line, rendered but for what each answer adds
    line: PreparedLine


class Call(NamedTuple):
    """One claimed request: what was decided for its shape, its id, its RateLimit lines and
    when it arrived."""

    decided: _Decided
    request_id: str
    limit_lines: str
    started: float


def _header_lines(lines: str) -> dict[str, str]:
    """``Name: value\\r\\n`` lines as a mapping."""
    return dict(line.split(": ", 1) for line in lines.split("\r\n") if line)


def _serialized(response: web.Response) -> bytes:
    """``response`` as aiohttp writes it for a kept-alive HTTP/1.1 GET: its headers in order,
    then the Content-Length, Content-Type, Date and Server it adds where they are missing."""
    body = response.body
    assert isinstance(body, bytes)  # a problem document is rendered bytes
    headers = response.headers
    lines = [f"HTTP/1.1 {response.status} {response.reason}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    if hdrs.CONTENT_LENGTH not in headers:
        lines.append(f"Content-Length: {len(body)}\r\n")
    if hdrs.CONTENT_TYPE not in headers and body:
        lines.append("Content-Type: application/octet-stream\r\n")
    if hdrs.DATE not in headers:
        lines.append(f"Date: {rfc822_formatted_time()}\r\n")
    if hdrs.SERVER not in headers:
        lines.append(_SERVER)
    lines.append("\r\n")
    return "".join(lines).encode() + body
