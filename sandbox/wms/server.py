"""The WMS sandbox: a Fishbowl-style framed TCP server on 127.0.0.1.

Each connection is served by one loop that reads a frame, answers it, writes the reply and only
then reads the next, so at most one request per connection is in flight and pipelined frames
simply wait in the socket buffer. A frame with a negative or oversized length closes the
connection (the stream can no longer be trusted to be in step).

Faults: ``down`` closes the listening socket (connection refused) and aborts every open
connection; leaving it listens again on the same port. ``drop_session`` ends every ticket open
at that moment (1164). Per request, :meth:`FaultSwitch.verdict` decides the rest: ``ERROR``
answers 1009 "server shut down" (transient) without touching any state, ``GARBAGE`` answers a
well-framed payload that is neither JSON nor XML.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

from sandbox.dataset import World
from sandbox.faults import Fault, FaultKind, FaultSwitch, Verdict
from sandbox.wms.envelope import (
    MalformedRequest,
    garbage_for,
    parse_request,
    render_reply,
)
from sandbox.wms.framing import FrameDecoder, FrameError, encode_frame
from sandbox.wms.messages import Dispatcher
from sandbox.wms.sessions import SessionTable
from sandbox.wms.status import Status
from sandbox.wms.store import WmsStore

__all__ = ["DEFAULT_PORT", "WmsSandbox"]

DEFAULT_PORT = 28192  # Fishbowl's own default
_READ_SIZE = 65536


class WmsSandbox:
    """A Fishbowl legacy-API server over the WMS slice of the seeded world."""

    name = "wms"

    def __init__(
        self,
        world: World,
        switch: FaultSwitch,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        session_idle_s: float = 600.0,
        max_frame: int = 1_048_576,
        clock: Callable[[], float] = time.monotonic,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.switch = switch
        self.host = host
        self._port = port
        self.max_frame = max_frame
        self.store = WmsStore(world)
        self.sessions = SessionTable(session_idle_s, clock)
        self.dispatcher = Dispatcher(self.store, self.sessions, users or {"admin": "admin"})
        self._server: asyncio.Server | None = None
        self._started = False
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        switch.on_change(self._on_fault)

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self._port}"

    @property
    def open_connections(self) -> int:
        """Client connections open right now (tests check pools with it)."""
        return len(self._connections)

    async def start(self) -> None:
        self._started = True
        if self.switch.fault.kind is not FaultKind.DOWN:
            await self._listen()

    async def stop(self) -> None:
        self._started = False
        await self._unlisten()

    async def answer(self, payload: bytes) -> bytes:
        """The reply payload for one request payload, after asking the fault switch."""
        verdict = await self.switch.verdict()
        if verdict is Verdict.GARBAGE:
            return garbage_for(payload)
        try:
            request = parse_request(payload)
        except MalformedRequest as exc:
            status = Status.SERVER_SHUT_DOWN if verdict is Verdict.ERROR else Status.REQUEST_INVALID
            reply = self.dispatcher.fail(exc.dialect, status, detail=exc.detail)
        else:
            if verdict is Verdict.ERROR:
                reply = self.dispatcher.shut_down(request)
            else:
                reply = self.dispatcher.handle(request)
        return render_reply(reply)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        decoder = FrameDecoder(self.max_frame)
        try:
            while chunk := await reader.read(_READ_SIZE):
                for payload in decoder.frames(chunk):
                    reply = await self.answer(payload)
                    writer.write(encode_frame(reply))
                    await writer.drain()
        except (FrameError, ConnectionError):
            pass  # a peer out of step or gone: closing is the whole answer
        except asyncio.CancelledError:
            # Only _unlisten cancels these tasks (down, stop). Ending quietly matters: asyncio
            # 3.11's stream callback logs the "exception" of a cancelled connection task.
            return
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self._port, reuse_address=True
        )
        if self._port == 0:
            self._port = self._server.sockets[0].getsockname()[1]

    async def _unlisten(self) -> None:
        """Stop listening and drop every open connection, as a crashed host would."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        current = asyncio.current_task()
        tasks = [task for task in self._connections if task is not current]
        for task in tasks:
            self._connections[task].transport.abort()
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _on_fault(self, old: Fault, new: Fault) -> None:
        if new.kind is FaultKind.DROP_SESSION:
            self.sessions.drop_all()
        if not self._started:
            return
        if new.kind is FaultKind.DOWN and old.kind is not FaultKind.DOWN:
            await self._unlisten()
        elif old.kind is FaultKind.DOWN and new.kind is not FaultKind.DOWN:
            await self._listen()
