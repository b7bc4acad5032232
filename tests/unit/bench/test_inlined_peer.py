"""The hand-inlined peer does the duties it stands for, so its ratio to bare means something."""

from __future__ import annotations

from typing import Any

from bench.credentials import API_KEY_HEADER
from bench.peers.inlined import make_app

BODY = b'{"no":"SO-1"}'
KEY = "a-key-for-the-test"


async def test_it_authenticates_counts_and_answers_with_the_gateway_header_set(
    aiohttp_client: Any, capsys: Any
) -> None:
    """A wrong key gets 401; a right one the body with every header a veneer hit carries."""
    client = await aiohttp_client(make_app(BODY, KEY))
    refused = await client.get("/api/v1/orders/SO-1", headers={API_KEY_HEADER: "wrong"})
    first = await client.get("/api/v1/orders/SO-1", headers={API_KEY_HEADER: KEY})
    second = await client.get("/api/v1/orders/SO-1", headers={API_KEY_HEADER: KEY})
    assert refused.status == 401
    assert (first.status, await first.read()) == (200, BODY)
    for header in ("ETag", "Cache-Control", "Cache-Status", "Age", "RateLimit", "X-Request-ID"):
        assert header in first.headers, header
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert '"default";r=' in second.headers["RateLimit"]
    assert capsys.readouterr().out.count('"event":"request"') == 3


async def test_a_matching_if_none_match_gets_304(aiohttp_client: Any) -> None:
    """The conditional check is part of the duties: the stored ETag back gives 304, no body."""
    client = await aiohttp_client(make_app(BODY, KEY))
    first = await client.get("/api/v1/orders/SO-1", headers={API_KEY_HEADER: KEY})
    again = await client.get(
        "/api/v1/orders/SO-1", headers={API_KEY_HEADER: KEY, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304 and await again.read() == b""
