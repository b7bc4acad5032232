"""Hostile legacy systems on real sockets, in their own process: ``python -m`` this module.

It prints one line, ``http=<port> tcp=<port> canary=<port>``, and serves until killed. Being a
separate process keeps the gateway's memory measurements its own (a server sending 16 MB holds
16 MB too). Everything is plain asyncio streams and struct, so nothing of the gateway's HTTP
client or framing is trusted to produce the bytes.

- HTTP: every request is answered per the current mode, set with ``GET /__mode__/<mode>``
  (the keys of :data:`BODIES`, or ``gzip_bomb``, ``huge_declared``, ``endless_fast``,
  ``endless_slow``, ``endless_headers``).
- TCP (4-byte big-endian frames, as Fishbowl): per ``GET /__tcp__/<behaviour>``
  (``announce_1k_then_flood``, ``announce_2g``, ``drip``).
- canary: a listener that counts connections (``GET /__canary__``): an external entity
  pointing at it must never be fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import zlib

Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_CHUNK = b"<a>" + b"x" * 65_000 + b"</a>"


def _laughs(depth: int = 10) -> str:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, depth)
    ]
    return f"<!DOCTYPE r [{''.join(entities)}]>"


def soap(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{prolog}<S:Envelope xmlns:S="{SOAP_NS}"><S:Body>{body}'
        "</S:Body></S:Envelope>"
    ).encode()


def xmlrpc(value: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{prolog}<methodResponse><params><param><value>{value}'
        "</value></param></params></methodResponse>"
    ).encode()


def gzip_bomb(megabytes: int = 512) -> bytes:
    """``megabytes`` MiB of zeros, gzip-compressed to about a thousandth of that."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


def bodies(canary: int) -> dict[str, bytes]:
    return {
        "soap_billion_laughs": soap("<R>&l9;</R>", _laughs()),
        "soap_external_entity": soap(
            "<R>&x;</R>", f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{canary}/x">]>'
        ),
        "soap_deep": soap("<a>" * 100_000 + "</a>" * 100_000),
        "soap_many_elements": soap("<R>" + "<a/>" * 4_000_000 + "</R>"),  # 16 MB, 4 M elements
        "xmlrpc_billion_laughs": xmlrpc("<string>&l9;</string>", _laughs()),
        "xmlrpc_external_entity": xmlrpc(
            "<string>&x;</string>",
            f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{canary}/x">]>',
        ),
        "xmlrpc_deep": xmlrpc("<array><data><value>" * 5_000 + "</value></data></array>" * 5_000),
        "xmlrpc_many_values": xmlrpc(
            "<array><data>" + "<value><struct></struct></value>" * 500_000 + "</data></array>"
        ),
        "gzip_bomb": gzip_bomb(),
    }


async def _forever(writer: Writer, data: bytes, pause: float = 0.0) -> None:
    while True:
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(pause)


async def _read_frame(reader: Reader) -> bytes:
    (length,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(length)


async def announce_1k_then_flood(reader: Reader, writer: Writer) -> None:
    """A frame header saying 1 KiB, then bytes without end."""
    await _read_frame(reader)
    writer.write(struct.pack(">i", 1024))
    await _forever(writer, b"\x00" * 65536)


async def announce_2g(reader: Reader, writer: Writer) -> None:
    """A frame header saying 2 GiB (the largest signed 4-byte length), then bytes without end."""
    await _read_frame(reader)
    writer.write(struct.pack(">i", 2**31 - 1))
    await _forever(writer, b"\x00" * 65536)


async def drip(reader: Reader, writer: Writer) -> None:
    """A 512 KiB frame announced, then one byte every 50 ms: a reply that never ends."""
    await _read_frame(reader)
    writer.write(struct.pack(">i", 512 * 1024))
    await _forever(writer, b"{", pause=0.05)


TCP = {f.__name__: f for f in (announce_1k_then_flood, announce_2g, drip)}


class Hostile:
    def __init__(self) -> None:
        self.mode = "soap_billion_laughs"
        self.tcp = "announce_2g"
        self.canary_hits = 0
        self.bodies: dict[str, bytes] = {}

    async def http(self, reader: Reader, writer: Writer) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    await reader.readexactly(int(line.split(b":", 1)[1]))
            for prefix, attribute in (("/__mode__/", "mode"), ("/__tcp__/", "tcp")):
                if target.startswith(prefix):
                    setattr(self, attribute, target.removeprefix(prefix))
                    await self._send(writer, b"Content-Type: text/plain", b"ok")
                    return
            if target == "/__canary__":
                await self._send(
                    writer, b"Content-Type: text/plain", str(self.canary_hits).encode()
                )
                return
            await self._answer(writer)
        writer.transport.abort()

    async def _send(self, writer: Writer, headers: bytes, body: bytes, *, hold: float = 0) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\n" + headers + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        await writer.drain()
        await asyncio.sleep(hold)

    async def _answer(self, writer: Writer) -> None:
        ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
        if self.mode == "gzip_bomb":
            headers = b"Content-Type: text/xml\r\nContent-Encoding: gzip"
            await self._send(writer, headers, self.bodies["gzip_bomb"], hold=5)
        elif self.mode in self.bodies:
            await self._send(writer, b"Content-Type: text/xml", self.bodies[self.mode], hold=5)
        elif self.mode == "huge_declared":
            writer.write(ok + b"Content-Length: 10737418240\r\n\r\n")
            await _forever(writer, bytes(65536))
        elif self.mode == "endless_fast":
            writer.write(ok + b"Transfer-Encoding: chunked\r\n\r\n")
            await _forever(writer, b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK))
        elif self.mode == "endless_slow":
            writer.write(ok + b"Transfer-Encoding: chunked\r\n\r\n")
            await _forever(writer, b"1\r\n<\r\n", pause=0.05)
        elif self.mode == "endless_headers":
            writer.write(b"HTTP/1.1 200 OK\r\n")
            await _forever(writer, b"X-Junk: " + b"j" * 1000 + b"\r\n")

    async def tcp_server(self, reader: Reader, writer: Writer) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await TCP[self.tcp](reader, writer)
        writer.transport.abort()

    async def canary(self, reader: Reader, writer: Writer) -> None:
        self.canary_hits += 1
        writer.transport.abort()


async def main() -> None:
    hostile = Hostile()
    canary = await asyncio.start_server(hostile.canary, "127.0.0.1", 0)
    canary_port = canary.sockets[0].getsockname()[1]
    hostile.bodies = bodies(canary_port)
    http = await asyncio.start_server(hostile.http, "127.0.0.1", 0)
    tcp = await asyncio.start_server(hostile.tcp_server, "127.0.0.1", 0)
    ports = (server.sockets[0].getsockname()[1] for server in (http, tcp))
    print("http={} tcp={} canary={}".format(*ports, canary_port), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
