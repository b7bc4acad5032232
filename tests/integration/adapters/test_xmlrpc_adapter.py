"""The generic XML-RPC adapter over real sockets: the standard library's server, and hostile ones.

The foreign stack is ``xmlrpc.server.SimpleXMLRPCServer`` in a thread. The hostile server is a
tiny aiohttp app streaming 100 MB (plain, or as a gzip bomb) in 1 MiB chunks, so neither side
ever holds the body: the adapter must stop reading at its cap with the process's peak RSS
growing by far less than the body.
"""

from __future__ import annotations

import resource
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web

from adapters.base import AdapterContext
from adapters.crm import XmlRpcAdapter, XmlRpcOptions
from adapters.errors import BackendFault, ProtocolError
from tests.support.xmlrpc_server import stdlib_xmlrpc_server

MiB = 1024 * 1024


def context(url: str) -> AdapterContext:
    return AdapterContext(backend="rpc", endpoint=url, connect_timeout=1.0, read_timeout=5.0)


def describe(*values: Any) -> dict[str, Any]:
    """Echo the values with the Python type each arrived as on the server."""
    return {"types": [type(value).__name__ for value in values], "values": list(values)}


def refuse(*order: str) -> None:
    raise ValueError(f"no such order {order[0]}")


@pytest.fixture
def stdlib_server() -> Iterator[str]:
    functions = {"echo.describe": describe, "orders.refuse": refuse}
    with stdlib_xmlrpc_server(functions, introspection=True, use_builtin_types=True) as url:
        yield url


@pytest.fixture
async def rpc(stdlib_server: str) -> AsyncIterator[XmlRpcAdapter]:
    adapter = XmlRpcAdapter(context(stdlib_server), XmlRpcOptions(path=""))
    await adapter.start()
    yield adapter
    await adapter.close()


async def test_values_of_every_type_round_trip(rpc: XmlRpcAdapter) -> None:
    """int, str, list, dict, bool, float, datetime and None reach the server typed, and return."""
    when = datetime(2026, 2, 1, 9, 30, 15)
    values = [42, "Grüße & <tags>", [1, "two"], {"k": [True]}, False, 2.5, when, None]
    answer = await rpc.call("echo.describe", {"args": values})
    assert answer["types"] == [
        "int", "str", "list", "dict", "bool", "float", "datetime", "NoneType"
    ]  # fmt: skip
    assert answer["values"] == [*values[:6], "2026-02-01T09:30:15", None]


async def test_a_python_exception_is_backend_fault(rpc: XmlRpcAdapter) -> None:
    """The server's ValueError arrives as fault 1, raised as BackendFault with its message."""
    with pytest.raises(BackendFault) as caught:
        await rpc.call("orders.refuse", {"args": ["SO-1"]})
    assert caught.value.code == 1
    assert "no such order SO-1" in caught.value.message
    assert (caught.value.backend, caught.value.operation) == ("rpc", "orders.refuse")


async def test_unknown_method_is_backend_fault_and_health_is_ok(rpc: XmlRpcAdapter) -> None:
    """A method the server lacks is its fault; system.listMethods makes health ok."""
    with pytest.raises(BackendFault, match="not supported"):
        await rpc.call("orders.nothing", {})
    health = await rpc.health()
    assert health.ok


# -- a hostile server: 100 MB replies -------------------------------------------------------------

BODY_BYTES = 100 * MiB
_HEAD = b"<?xml version='1.0'?><methodResponse><params><param><value><string>"


def _plain_chunks() -> Iterator[bytes]:
    yield _HEAD
    block = b"x" * MiB
    for _ in range(BODY_BYTES // MiB):
        yield block


def _gzip_chunks() -> Iterator[bytes]:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    yield packer.compress(_HEAD)
    block = b"x" * MiB
    for _ in range(BODY_BYTES // MiB):
        yield packer.compress(block)
    yield packer.flush()


async def _stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    gzip = request.match_info["kind"] == "gzip"
    response = web.StreamResponse(headers={"Content-Type": "text/xml"})
    if gzip:
        response.headers["Content-Encoding"] = "gzip"
    await response.prepare(request)
    try:
        for chunk in _gzip_chunks() if gzip else _plain_chunks():
            await response.write(chunk)
    except ConnectionError:
        pass  # the client stopped reading at its cap and closed, as it should
    return response


@pytest.fixture
async def huge_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/{kind}", _stream)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


@pytest.mark.parametrize("kind", ["plain", "gzip"])
async def test_a_100_mb_reply_is_refused_at_the_cap_in_bounded_memory(
    huge_server: str, kind: str
) -> None:
    """A 100 MB reply (or gzip bomb) is ProtocolError at the 16 MiB cap; peak RSS grows < 50 MB."""
    adapter = XmlRpcAdapter(context(huge_server), XmlRpcOptions(path=f"/{kind}"))
    before = peak_rss_bytes()
    try:
        with pytest.raises(ProtocolError, match="cap"):
            await adapter.call("big.reply", {})
    finally:
        await adapter.close()
    assert peak_rss_bytes() - before < 50 * MiB
