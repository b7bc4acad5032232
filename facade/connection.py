"""The gateway's connections: aiohttp's, with the lanes in front.

aiohttp's connection protocol parses what a client sends, queues each complete request and
wakes its handler task, which builds a request, runs the application and writes the answer.
Here the protocol holds that wake-up back for a moment: when exactly one request has arrived
on a connection with nothing in flight (its handler task waiting, or not yet back from writing
the last answer), the hit lane (:mod:`facade.hitlane`) may answer it there and then, or the
call lane (:mod:`facade.calllane`) claim it and answer it from a task of its own, and the
handler task sleeps on. While a claimed call is in flight, whatever the client sends is parsed
and held back, and handed to the handler task once the call's answer is written, so answers
leave in the order their requests came. Otherwise, or when both lanes say no, the request goes
on as aiohttp would have sent it: parsing, error answers, pipelining, keep-alive and shutdown
all stay aiohttp's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_parser import RawRequestMessage, RawRequestMessagePy
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler

from facade.calllane import Call, CallLane
from facade.hitlane import HitLane

__all__ = ["CALL_LANE", "HIT_LANE", "GatewayRunner"]

log = structlog.get_logger("veneer")

#: the application's hit lane, when its configuration has one
HIT_LANE = web.AppKey("hit_lane", HitLane)
#: the application's call lane, when its configuration has one
CALL_LANE = web.AppKey("call_lane", CallLane)
_REQUEST_MESSAGES = (RawRequestMessage, RawRequestMessagePy)  # the C parser's, the Python one's


class GatewayRunner(web.AppRunner):
    """aiohttp's application runner, whose connections consult the app's lanes, if any."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        hits, calls = self.app.get(HIT_LANE), self.app.get(CALL_LANE)
        return server if hits is None and calls is None else _LaneServer(server, hits, calls)


class _LaneServer(web.Server):
    """The server aiohttp made for the application, making connections with the lanes."""

    def __init__(self, made: web.Server, hits: HitLane | None, calls: CallLane | None) -> None:
        super().__init__(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
        self.hits = hits
        self.calls = calls

    def __call__(self) -> RequestHandler:
        return _LaneConnection(self, self.hits, self.calls, loop=self._loop, **self._kwargs)


class _LaneConnection(RequestHandler):
    def __init__(
        self,
        manager: web.Server,
        hits: HitLane | None,
        calls: CallLane | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        self._hits = hits
        self._calls = calls
        self._remote: str | None = None
        #: the last request's answer is written and the handler task has yet to come back for
        #: the next one: nothing is in flight, though no waiter says so
        self._between = False
        #: the call lane's task answering this connection's request in flight, if any
        self._call: asyncio.Task[None] | None = None
        #: requests that arrived while a call was in flight, in order
        self._held: deque[Any] = deque()
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
        if self._call is not None:  # a call is in flight: its answer goes first
            self._hold(data)
            return
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
        if len(messages) == 1 and self._taken(*messages[0]):
            messages.clear()
        elif messages and waiter is not None:
            waiter.set_result(None)
        # else between requests: the handler task takes what is queued when it comes back

    def _taken(self, message: Any, payload: Any) -> bool:
        """Whether a lane took ``message`` (the one request queued): the hit lane's answer is
        written, or the call lane's task started."""
        if (
            payload is not EMPTY_PAYLOAD
            or not isinstance(message, _REQUEST_MESSAGES)
            or message.should_close
            or message.upgrade
            or self.transport is None
        ):
            return False
        answer: bytes | None = None
        call: Call | None = None
        try:
            if self._hits is not None:
                answer = self._hits.answer(message, self._remote)
            if answer is None and self._calls is not None:
                call = self._calls.claim(message, self._remote)
        except Exception:  # a fault of a lane's own must not cost the client its answer
            log.exception("a lane failed; the pipeline answers instead")
            return False
        if answer is None and call is None:
            return False
        assert self._parser is not None and self._manager is not None  # a live connection's
        self._parser.message_consumed()
        self._manager.requests_count += 1
        if answer is not None:
            self.transport.write(answer)
            self._keep_alive_from_now()
        else:
            assert call is not None and self._calls is not None
            self._call = self._loop.create_task(self._answer_call(self._calls, call))
        return True

    async def _answer_call(self, lane: CallLane, call: Call) -> None:
        """Write the call's answer, then hand what arrived meanwhile to the handler task."""
        try:
            answer = await lane.answer(call)
        except BaseException as exc:  # cancelled (the loop is going away), or a fault of the
            self._call = None  # lane's own after the answer was made: none will be sent
            self._held.clear()
            if self.transport is not None:
                self.transport.close()
            if not isinstance(exc, Exception):
                raise
            log.exception("the call lane failed; the connection is closed")
            return
        self._call = None
        transport = self.transport
        if transport is None:  # the client left: nothing to write, nothing held to answer
            self._held.clear()
            return
        transport.write(answer)
        self._keep_alive_from_now()
        held = self._held
        if not held:
            return
        if self._force_close or self._close:
            held.clear()
            return
        self._messages.extend(held)
        held.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        # else the handler task, not back from its last answer yet, takes them when it is

    def _hold(self, data: bytes) -> None:
        """Parse ``data`` as aiohttp would and hold its requests back, waking no one; stop
        reading while as many are held as aiohttp would queue."""
        waiter, self._waiter = self._waiter, None
        try:
            super().data_received(data)
        finally:
            self._waiter = waiter
        self._held.extend(self._messages)
        self._messages.clear()
        if len(self._held) >= self._max_msg_queue_size and not self._buffer_paused:
            self._pause_reading_for_buffer()

    def _process_keepalive(self) -> None:
        """aiohttp's keep-alive check, which takes a waiting handler task for an idle
        connection: one whose call is in flight is not idle (the call's answer arms the check
        again)."""
        if self._call is not None:
            self._keepalive_handle = None
            return
        super()._process_keepalive()

    def _keep_alive_from_now(self) -> None:
        """What aiohttp's handler does after each answer: the connection may idle this long."""
        close_time = self._loop.time() + self._keepalive_timeout
        self._next_keepalive_close_time = close_time
        if self._keepalive_handle is None:
            self._keepalive_handle = self._loop.call_at(close_time, self._process_keepalive)

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """aiohttp's graceful shutdown, after the call in flight, if any, has been answered."""
        call = self._call
        if call is not None:
            self._force_close = True  # take nothing more
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(call), timeout)
        await super().shutdown(timeout)
