"""What the lane tests share: exchanges over kept-alive connections, by client and by hand, and
the access log they write."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import structlog
from aiohttp.test_utils import TestClient

from facade.logs import ACCESS_LOG, configure_logging
from facade.security import DEMO_API_KEY

#: set per answer, so never equal between two gateways
PER_ANSWER = {"date", "x-request-id"}


@contextmanager
def access_log() -> Iterator[io.StringIO]:
    """Log lines, access lines included, as JSON into the yielded buffer; as before afterwards
    (later tests capture debug)."""
    log = io.StringIO()
    root = logging.getLogger()
    before = (structlog.get_config(), ACCESS_LOG.stream, root.handlers[:], root.level)
    configure_logging("info", "json", log)
    try:
        yield log
    finally:
        config, stream, handlers, level = before
        structlog.configure(**config)
        ACCESS_LOG.configure(stream)
        root.handlers = handlers
        root.setLevel(level)


async def idle() -> None:
    """Let the server's connection go back to waiting for the next request (no real time)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def exchange(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """One GET over the client's kept-alive connection: status, header lines in the order they
    came (but those set per answer), the request id and the body as sent."""
    await idle()
    async with client.get(path, headers=headers, auto_decompress=False) as reply:
        body = await reply.read()
        answer = {
            "status": reply.status,
            "headers": [
                (name.decode().lower(), value.decode())
                for name, value in reply.raw_headers
                if name.decode().lower() not in PER_ANSWER
            ],
            "request_id": reply.headers.get("X-Request-ID"),
            "body": body,
        }
    await idle()
    return answer


def last_access_line(log: io.StringIO) -> dict[str, Any]:
    """The last access line written, without what differs per request (its id, timings)."""
    lines = [orjson.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    line = [entry for entry in lines if entry.get("event") == "request"][-1]
    line = {k: v for k, v in line.items() if k not in {"ms", "ts", "request_id"}}
    line["backend_calls"] = [
        {k: v for k, v in call.items() if k != "ms"} for call in line["backend_calls"]
    ]
    return line


def without_request_id(body: bytes) -> object:
    """A problem document names its request; everything else must match."""
    if not body.startswith(b'{"type"'):
        return body
    problem = orjson.loads(body)
    problem.pop("request_id")
    return problem


class Raw:
    """One client connection to a gateway, speaking HTTP by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, client: TestClient) -> Raw:
        return cls(*await asyncio.open_connection(client.host, client.port))

    async def send(self, *requests: bytes) -> None:
        await idle()
        self.writer.write(b"".join(requests))
        await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        async with asyncio.timeout(10):  # an answer that never comes fails, not hangs
            return await self._answer()

    async def _answer(self) -> tuple[int, dict[str, str], bytes]:
        status_line = await self.reader.readline()
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, body

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def get(path: str, *, version: str = "1.1", extra: bytes = b"") -> bytes:
    """A GET of ``path`` with the demo API key, as a client writes it."""
    return (
        f"GET {path} HTTP/{version}\r\nHost: gateway\r\nX-API-Key: {DEMO_API_KEY}\r\n".encode()
        + extra
        + b"\r\n"
    )
