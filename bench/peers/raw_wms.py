"""Peer: raw Fishbowl round trips to the sandbox WMS over a pool of TCP connections.

``GET /wms`` takes an idle connection, writes one pre-built ``InvQtyRq`` frame (4-byte
big-endian length, FbiJson payload, a valid ticket), reads the reply frame and returns its bytes
unparsed. One request in flight per connection, as Fishbowl demands. The ticket comes from one
``LoginRq`` at startup; sessions belong to the ticket, not the connection, so every pooled
connection can use it. This is the floor under veneer's WMS route.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bench.peers.serving import peer_arguments, serve
from sandbox.runner import WMS_PASSWORD, WMS_USER

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
POOL = web.AppKey("pool", asyncio.Queue)
FRAME = web.AppKey("frame", bytes)
POOL_SIZE = 4  # the Fishbowl adapter's default pool_size (adapters/wms/options.py)
HEADER = struct.Struct(">i")
SUCCESS = 1000  # Fishbowl's statusCode for a request that did what it asked


def frame(message: str, params: dict[str, object], ticket: str = "") -> bytes:
    payload = json.dumps(
        {"FbiJson": {"Ticket": {"Key": ticket}, "FbiMsgsRq": {message: params}}}
    ).encode()
    return HEADER.pack(len(payload)) + payload


async def exchange(connection: Connection, request: bytes) -> bytes:
    reader, writer = connection
    writer.write(request)
    (length,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    return await reader.readexactly(length)


class Refused(RuntimeError):
    """The WMS refused what the peer sent: its round trips would not be a floor."""


def answered(reply: bytes, message: str) -> dict[str, Any]:
    """A reply frame's ``FbiJson``; :class:`Refused` unless its ``message`` part succeeded.

    A refused request is a much cheaper round trip for the WMS than a served one (it answers
    a short error without looking anything up), so a peer running on refusals would measure a
    floor that is not there."""
    body = json.loads(reply)["FbiJson"]
    part = body["FbiMsgsRs"][message]
    if part.get("statusCode") != SUCCESS:
        raise Refused(f"the WMS refused {message}: {part}")
    return body


def login_params(user: str, password: str) -> dict[str, object]:
    """A LoginRq as the gateway sends it: the password as base64 MD5 (Fishbowl's SDK form)."""
    digest = hashlib.md5(password.encode(), usedforsecurity=False).digest()
    return {
        "IAID": 54321,
        "IAName": "veneer-bench",
        "IADescription": "raw round-trip peer",
        "UserName": user,
        "UserPassword": base64.b64encode(digest).decode(),
    }


async def login(connection: Connection, user: str, password: str) -> str:
    request = frame("LoginRq", login_params(user, password))
    reply = answered(await exchange(connection, request), "LoginRs")
    ticket = str(reply["Ticket"]["Key"])
    if not ticket:
        raise Refused("the WMS accepted the login but issued no ticket")
    return ticket


def make_app(
    host: str,
    port: int,
    sku: str = "1000-GR",
    user: str = WMS_USER,
    password: str = WMS_PASSWORD,
) -> web.Application:
    """``user``/``password``: the WMS login (the sandbox's by default, as the gateway's)."""

    async def pool(app: web.Application) -> AsyncIterator[None]:
        connections = [await asyncio.open_connection(host, port) for _ in range(POOL_SIZE)]
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)
        app[POOL] = idle
        ticket = await login(connections[0], user, password)
        app[FRAME] = frame("InvQtyRq", {"PartNum": sku}, ticket)
        # One real read before serving: the frame must be one the WMS answers, not refuses.
        answered(await exchange(connections[0], app[FRAME]), "InvQtyRs")
        yield
        for _, writer in connections:
            writer.close()

    async def inv_qty(request: web.Request) -> web.Response:
        idle: asyncio.Queue[Connection] = request.app[POOL]
        connection = await idle.get()
        try:
            reply = await exchange(connection, request.app[FRAME])
        except BaseException:
            connection[1].close()  # out of step with the stream: replace it
            idle.put_nowait(await asyncio.open_connection(host, port))
            raise
        idle.put_nowait(connection)
        return web.Response(body=reply, content_type="application/json")

    app = web.Application()
    app.cleanup_ctx.append(pool)
    app.router.add_get("/wms", inv_qty)
    return app


def main() -> None:
    parser = peer_arguments(__doc__)
    parser.add_argument("--wms", required=True, help="tcp://host:port of the WMS")
    args = parser.parse_args()
    where = urlsplit(args.wms)
    serve(make_app(where.hostname or "127.0.0.1", where.port or 28192), args)


if __name__ == "__main__":
    main()
