"""A pool of framed TCP connections: at most ``size`` open, one request in flight on each.

Legacy TCP servers answer one frame at a time per connection (Fishbowl clients keep a queue per
socket), so a connection is leased for a whole request/reply exchange and concurrency comes from
holding several. Timeouts are exact and separate: ``connect_timeout`` bounds opening a
connection, ``read_timeout`` bounds one exchange (sending the request and receiving the whole
reply, so a reply that never ends is cut off too); a caller's own deadline wraps both.

A connection is reused only after a clean exchange. Any failure on it (timeout, framing error,
peer reset) and any cancellation discards it at once, because its stream may hold half a frame
or a late reply that would answer the next request. An idle connection the peer has closed, or
that received bytes nobody asked for, is noticed and dropped at lease time, so after a backend
restart the pool reconnects by itself and a stray reply never answers the wrong request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters.wms.framing import FrameCodec, FrameDecoder

__all__ = [
    "ConnectTimeout",
    "ConnectionLost",
    "ConnectionPool",
    "PoolStats",
    "ReadTimeout",
    "parse_endpoint",
]

_READ_SIZE = 65536
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class ConnectTimeout(TimeoutError):
    def __init__(self, limit: float) -> None:
        super().__init__(f"no connection within {limit:.3f}s")
        self.limit = limit


class ReadTimeout(TimeoutError):
    def __init__(self, limit: float) -> None:
        super().__init__(f"no complete reply within {limit:.3f}s")
        self.limit = limit


class ConnectionLost(ConnectionError):
    """The peer closed the connection before a whole reply arrived (or the pool is closed)."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    size: int  # the most connections the pool opens at once
    open: int  # connections open now
    idle: int  # of those, waiting for a request
    in_use: int  # of those, carrying an exchange
    opened: int  # connections opened since the start
    discarded: int  # connections closed because they failed, were cancelled or went stale


def parse_endpoint(endpoint: str, default_port: int | None = None) -> tuple[str, int]:
    """``tcp://host:port`` (or ``host:port``) → (host, port)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"tcp://{endpoint}")
    try:
        port = parts.port or default_port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ValueError(f"endpoint {endpoint!r} is not tcp://host:port")
    return parts.hostname, port


class _Connection:
    __slots__ = ("decoder", "reader", "reusable", "writer")

    def __init__(self, streams: Streams, decoder: FrameDecoder) -> None:
        self.reader, self.writer = streams
        self.decoder = decoder
        self.reusable = True

    def alive(self) -> bool:
        """Open, and silent since its last exchange.

        Bytes that arrived on an idle connection (a late or unsolicited reply, a frame longer
        than it announced) would be read as the start of the next request's answer: such a
        stream is out of step and is dropped. asyncio has no public peek, hence ``_buffer``.
        """
        return not (
            self.writer.transport.is_closing()
            or self.reader.at_eof()
            or self.reader.exception() is not None
            or bool(getattr(self.reader, "_buffer", None))
        )

    async def exchange(self, frame: bytes, read_timeout: float) -> bytes:
        self.reusable = False  # until the reply has arrived whole
        try:
            async with asyncio.timeout(read_timeout):
                self.writer.write(frame)
                if self.writer.transport.get_write_buffer_size():  # else nothing to wait for
                    await self.writer.drain()
                frames: list[bytes] = []
                while not frames:
                    chunk = await self.reader.read(_READ_SIZE)
                    if not chunk:
                        raise ConnectionLost(
                            f"connection closed by the peer ({self.decoder.buffered} bytes "
                            "of a reply received)"
                        )
                    frames = self.decoder.feed(chunk)
        except TimeoutError as exc:
            raise ReadTimeout(read_timeout) from exc
        # More than one frame for one request: the stream is out of step; answer, then drop it.
        self.reusable = len(frames) == 1 and not self.decoder.buffered
        return frames[0]

    def abort(self) -> None:
        self.writer.transport.abort()


class ConnectionPool:
    """Framed request/reply over up to ``size`` TCP connections to one backend."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        codec: FrameCodec,
        connect_timeout: float,
        read_timeout: float,
        size: int = 4,
        connect: Callable[[str, int], Awaitable[Streams]] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        self.host, self.port, self.codec, self.size = host, port, codec, size
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._open_streams = connect or _open_connection
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()
        self._opened = self._discarded = 0
        self._closed = False

    def stats(self) -> PoolStats:
        open_, idle = len(self._all), len(self._idle)
        return PoolStats(self.size, open_, idle, open_ - idle, self._opened, self._discarded)

    async def request(self, payload: bytes) -> bytes:
        frame = self.codec.encode(payload)  # refuse an unsendable payload before leasing
        async with self._slots:
            connection = await self._lease()
            reuse = False
            try:
                reply = await connection.exchange(frame, self.read_timeout)
                reuse = connection.reusable
                return reply
            finally:
                # Cancelled or failed mid-exchange: the stream may hold half a frame or a late
                # reply, so the connection goes; a clean exchange returns it to the idle list.
                self._give_back(connection, reuse=reuse)

    async def probe(self) -> None:
        _, writer = await self._connect()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def close(self) -> None:
        self._closed = True
        for connection in list(self._all):
            connection.writer.close()
        for connection in list(self._all):
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()
        self._all.clear()
        self._idle.clear()

    async def _lease(self) -> _Connection:
        if self._closed:
            raise ConnectionLost("the connection pool is closed")
        while self._idle:
            connection = self._idle.pop()
            if connection.alive():
                return connection
            self._drop(connection)
        connection = _Connection(await self._connect(), self.codec.decoder())
        self._opened += 1
        self._all.add(connection)
        return connection

    async def _connect(self) -> Streams:
        try:
            async with asyncio.timeout(self.connect_timeout):
                return await self._open_streams(self.host, self.port)
        except TimeoutError as exc:
            raise ConnectTimeout(self.connect_timeout) from exc

    def _give_back(self, connection: _Connection, *, reuse: bool) -> None:
        if reuse and not self._closed and connection.alive():
            self._idle.append(connection)
        else:
            self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.abort()
        if connection in self._all:
            self._all.discard(connection)
            self._discarded += 1


async def _open_connection(host: str, port: int) -> Streams:
    return await asyncio.open_connection(host, port, limit=_READ_SIZE)
