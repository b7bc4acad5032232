"""The framed TCP pool and the framed-tcp adapter against small scripted servers on 127.0.0.1.

Each server below misbehaves in one way real legacy peers do (a reply that never ends, a lying
length, a close mid-reply, an extra unsolicited frame, an idle disconnect), written with plain
asyncio streams and struct so nothing of the adapter's own framing is trusted.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.base import AdapterContext
from adapters.errors import BackendTimeout, ConnectFailed, ProtocolError
from adapters.wms import FramedTcpAdapter, FramedTcpOptions
from adapters.wms.framing import FrameError, LengthPrefixCodec
from adapters.wms.pool import ConnectionLost, ConnectionPool, ConnectTimeout, ReadTimeout

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
CODEC = LengthPrefixCodec(length_bytes=4, signed=True, max_frame=1024)


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(length)


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


class Server:
    """A one-behaviour TCP server; counts accepted connections."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.accepted = 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self.tasks.append(task)
        try:
            await self.serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return  # stopped by __aexit__; 3.11's stream callback would log a re-raise
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def pool(self, *, read_timeout: float = 1.0, size: int = 2) -> ConnectionPool:
        return ConnectionPool(
            host="127.0.0.1",
            port=self.port,
            codec=CODEC,
            connect_timeout=1.0,
            read_timeout=read_timeout,
            size=size,
        )


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        writer.write(frame(await read_frame(reader)))
        await writer.drain()


@pytest.fixture
async def pools() -> AsyncIterator[list[ConnectionPool]]:
    made: list[ConnectionPool] = []
    yield made
    for pool in made:
        await pool.close()


async def test_a_reply_that_never_ends_is_cut_off_at_the_read_timeout(
    pools: list[ConnectionPool],
) -> None:
    """A header announcing 100 bytes followed by 10 ends in ReadTimeout, on time."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        writer.write(struct.pack(">i", 100) + b"x" * 10)
        await asyncio.sleep(5)

    async with Server(trickle) as server:
        pools.append(pool := server.pool(read_timeout=0.2))
        started = time.perf_counter()
        with pytest.raises(ReadTimeout):
            await pool.request(b"hello")
        assert 0.2 <= time.perf_counter() - started < 0.4
        assert pool.stats().open == 0


async def test_an_oversize_announcement_is_refused_without_reading_the_body(
    pools: list[ConnectionPool],
) -> None:
    """A length above max_frame fails as soon as the header arrives and drops the connection."""

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        writer.write(struct.pack(">i", 50_000_000))
        await asyncio.sleep(5)

    async with Server(huge) as server:
        pools.append(pool := server.pool())
        with pytest.raises(FrameError, match="exceeds the 1024-byte limit"):
            await pool.request(b"hello")
        assert (pool.stats().open, pool.stats().discarded) == (0, 1)


async def test_a_close_mid_reply_is_connection_lost(pools: list[ConnectionPool]) -> None:
    """A peer that hangs up halfway through a reply raises ConnectionLost, not a short frame."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        writer.write(struct.pack(">i", 20) + b"partial")
        await writer.drain()

    async with Server(hang_up) as server:
        pools.append(pool := server.pool())
        with pytest.raises(ConnectionLost, match="11 bytes of a reply"):
            await pool.request(b"hello")


async def test_an_unsolicited_extra_frame_retires_the_connection(
    pools: list[ConnectionPool],
) -> None:
    """Two frames for one request: the first is the answer, and the stream is not reused."""

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            payload = await read_frame(reader)
            writer.write(frame(payload) + frame(b"unsolicited"))
            await writer.drain()

    async with Server(chatty) as server:
        pools.append(pool := server.pool())
        assert await pool.request(b"one") == b"one"
        assert await pool.request(b"two") == b"two"
        assert (server.accepted, pool.stats().discarded) == (2, 2)


async def test_bytes_arriving_on_an_idle_connection_retire_it(
    pools: list[ConnectionPool],
) -> None:
    """A frame the peer sends after an exchange ended is never read as the next request's reply."""

    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            writer.write(frame(await read_frame(reader)))
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(frame(b"stale"))  # a second, unsolicited reply, once the first was read
            await writer.drain()

    async with Server(late) as server:
        pools.append(pool := server.pool())
        assert await pool.request(b"one") == b"one"
        await asyncio.sleep(0.15)
        assert await pool.request(b"two") == b"two"
        assert (server.accepted, pool.stats().discarded) == (2, 1)


async def test_an_idle_connection_closed_by_the_peer_is_replaced_silently(
    pools: list[ConnectionPool],
) -> None:
    """A server that closes idle sockets costs a reconnect, never a failed call."""

    async def one_shot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(await read_frame(reader)))
        await writer.drain()  # then close: the server's idle timeout

    async with Server(one_shot) as server:
        pools.append(pool := server.pool())
        assert await pool.request(b"a") == b"a"
        await asyncio.sleep(0.05)  # let the FIN arrive
        assert await pool.request(b"b") == b"b"
        assert server.accepted == 2


async def test_connect_timeout_is_exact() -> None:
    """A connect that never completes fails with ConnectTimeout at the configured limit."""

    async def never(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    pool = ConnectionPool(
        host="127.0.0.1", port=9, codec=CODEC, connect_timeout=0.2, read_timeout=5, connect=never
    )
    started = time.perf_counter()
    with pytest.raises(ConnectTimeout):
        await pool.request(b"x")
    assert 0.2 <= time.perf_counter() - started < 0.35
    assert pool.stats().open == 0


async def test_the_pool_never_exceeds_its_size(pools: list[ConnectionPool]) -> None:
    """Ten concurrent requests over a pool of three use three connections, all answered."""
    async with Server(echo) as server:
        pools.append(pool := server.pool(size=3))
        payloads = [str(i).encode() for i in range(10)]
        assert await asyncio.gather(*(pool.request(p) for p in payloads)) == payloads
        assert server.accepted <= 3
        assert pool.stats().opened == server.accepted


def framed_context(port: int, read_timeout: float = 1.0) -> AdapterContext:
    return AdapterContext(
        backend="legacy",
        endpoint=f"tcp://127.0.0.1:{port}",
        connect_timeout=1.0,
        read_timeout=read_timeout,
    )


async def test_framed_tcp_adapter_round_trips_json_lines() -> None:
    """The framed-tcp kind speaks newline-delimited JSON to a real line server."""

    async def lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            request = json.loads(line)
            writer.write(json.dumps({"op": request["op"], "qty": len(request["sku"])}).encode())
            writer.write(b"\n")
            await writer.drain()

    async with Server(lines) as server:
        adapter = FramedTcpAdapter(
            framed_context(server.port), FramedTcpOptions(framing="delimiter", pool_size=2)
        )
        await adapter.start()
        try:
            results = await asyncio.gather(
                *(adapter.call("stock", {"sku": "x" * n}) for n in range(1, 6))
            )
            assert [r["qty"] for r in results] == [1, 2, 3, 4, 5]
            assert (await adapter.health()).ok
        finally:
            await adapter.close()


async def test_framed_tcp_adapter_translates_wire_failures() -> None:
    """Refused, silent and oversize peers become ConnectFailed, BackendTimeout, ProtocolError."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"y" * 5000)
        await writer.drain()
        await asyncio.sleep(5)

    options = FramedTcpOptions(framing="delimiter", max_frame=1000)
    async with Server(silent) as quiet, Server(flood) as noisy:
        for port, error in ((quiet.port, BackendTimeout), (noisy.port, ProtocolError)):
            adapter = FramedTcpAdapter(framed_context(port, read_timeout=0.2), options)
            with pytest.raises(error):
                await adapter.call("op", {})
            await adapter.close()
        closed_port = quiet.port
    refused = FramedTcpAdapter(framed_context(closed_port), options)
    with pytest.raises(ConnectFailed, match="refused"):
        await refused.call("op", {})
    assert not (await refused.health()).ok
    await refused.close()
