"""The gateway's connections: aiohttp's, with the hit lane (:mod:`facade.hitlane`) in front.

aiohttp's connection protocol parses what a client sends, queues each complete request and
wakes its handler task, which builds a request, runs the application and writes the answer.
Here the protocol holds that wake-up back for a moment: when exactly one request has arrived
on a connection with nothing in flight (its handler task waiting, or not yet back from writing
the last answer), the hit lane may answer it there and then, and the handler task sleeps on. Otherwise, or when the lane says no, the request goes on as aiohttp would have sent it:
parsing, error answers, pipelining, keep-alive and shutdown all stay aiohttp's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_parser import RawRequestMessage, RawRequestMessagePy
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler

from facade.hitlane import HitLane

__all__ = ["HIT_LANE", "GatewayRunner"]

log = structlog.get_logger("veneer")

#: the application's hit lane, when its configuration has one
HIT_LANE = web.AppKey("hit_lane", HitLane)
_REQUEST_MESSAGES = (RawRequestMessage, RawRequestMessagePy)  # the C parser's, the Python one's


class GatewayRunner(web.AppRunner):
    """aiohttp's application runner, whose connections consult the app's hit lane, if any."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        lane = self.app.get(HIT_LANE)
        return server if lane is None else _LaneServer(server, lane)


class _LaneServer(web.Server):
    """The server aiohttp made for the application, making connections with the lane."""

    def __init__(self, made: web.Server, lane: HitLane) -> None:
        super().__init__(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
        self.lane = lane

    def __call__(self) -> RequestHandler:
        return _LaneConnection(self, self.lane, loop=self._loop, **self._kwargs)


class _LaneConnection(RequestHandler):
    def __init__(self, manager: web.Server, lane: HitLane, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._lane = lane
        self._remote: str | None = None
        #: the last request's answer is written and the handler task has yet to come back for
        #: the next one: nothing is in flight, though no waiter says so
        self._between = False
        made = self._request_factory
        assert made is not None  # aiohttp's server always gives one

        def request_factory(*args: Any) -> web.BaseRequest:
            self._between = False  # the handler task is back and takes a queued request
            return made(*args)

        self._request_factory = request_factory

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")  # as aiohttp's ``request.remote`` reads it
        self._remote = (
            None if peer is None else str(peer[0] if isinstance(peer, list | tuple) else peer)
        )

    async def _handle_request(
        self,
        request: web.BaseRequest,
        start_time: float | None,
        request_handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
    ) -> tuple[web.StreamResponse, bool]:
        self._between = False
        resp, reset = await super()._handle_request(request, start_time, request_handler)
        # The answer is written. The handler task resumes a loop turn or more later (many more
        # under load), and a client quick to send its next request, as every load generator
        # is, would find no waiter all that time: without this, such a connection would never
        # leave the pipeline for the lane.
        self._between = not reset and bool(resp.keep_alive) and request.content.is_eof()
        return resp, reset

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        idle = waiter is not None and not waiter.done()  # the handler task waits for a request
        if (
            not (idle or self._between)  # a request is in flight (or none yet): aiohttp's turn
            or self._messages
            or self._payload_parser is not None
            or self._upgraded
            or self._paused  # the client is not reading its answers: aiohttp waits for it
            or self._close
            or self._force_close
        ):
            super().data_received(data)
            return
        self._waiter = None  # parse and queue as aiohttp does, but without waking the handler
        try:
            super().data_received(data)
        finally:
            self._waiter = waiter
        messages = self._messages
        if len(messages) == 1 and self._answered(*messages[0]):
            messages.clear()
        elif messages and waiter is not None:
            waiter.set_result(None)
        # else between requests: the handler task takes what is queued when it comes back

    def _answered(self, message: Any, payload: Any) -> bool:
        """Whether the lane answered ``message`` (the one request queued); written if so."""
        if (
            payload is not EMPTY_PAYLOAD
            or not isinstance(message, _REQUEST_MESSAGES)
            or message.should_close
            or message.upgrade
            or self.transport is None
        ):
            return False
        try:
            answer = self._lane.answer(message, self._remote)
        except Exception:  # a fault of the lane's own must not cost the client its answer
            log.exception("the hit lane failed; the pipeline answers instead")
            return False
        if answer is None:
            return False
        self.transport.write(answer)
        assert self._parser is not None and self._manager is not None  # a live connection's
        self._parser.message_consumed()
        self._manager.requests_count += 1
        # What aiohttp's handler does after each answer: the connection may idle this long.
        close_time = self._loop.time() + self._keepalive_timeout
        self._next_keepalive_close_time = close_time
        if self._keepalive_handle is None:
            self._keepalive_handle = self._loop.call_at(close_time, self._process_keepalive)
        return True
