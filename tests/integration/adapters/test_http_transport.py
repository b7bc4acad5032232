"""The pooled HTTP transport against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.http import AiohttpTransport


@pytest.fixture
async def cookie_setter() -> AsyncIterator[tuple[str, list[str | None]]]:
    """A server that sets a session cookie on every reply and records the Cookie header it got."""
    seen: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.Response(body=b"<ok/>", content_type="text/xml")
        response.set_cookie("SESSIONID", f"caller-{len(seen)}")
        return response

    app = web.Application()
    app.router.add_post("/svc", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # By name: aiohttp never stores cookies from a bare IP address, whatever the jar.
    yield f"http://localhost:{port}/svc", seen
    await runner.cleanup()


async def test_a_cookie_a_backend_sets_is_not_sent_with_later_calls(
    cookie_setter: tuple[str, list[str | None]],
) -> None:
    """One client's backend session cookie never rides along on the next client's call."""
    url, seen = cookie_setter
    transport = AiohttpTransport(backend="erp", connect_timeout=0.5, read_timeout=1.0)
    try:
        for _ in range(3):
            reply = await transport.post(url, b"<call/>", {"Content-Type": "text/xml"})
            assert reply.status == 200
            assert "SESSIONID" in reply.headers.get("Set-Cookie", "")
    finally:
        await transport.close()
    assert seen == [None, None, None]
