"""Hostile input from clients: refused before any backend call, with bounded work.

Header and URL limits are aiohttp's parser with the gateway's own settings (``facade.server``),
so those cases talk raw HTTP to a gateway started as ``veneer serve`` starts it.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from facade.server import start_gateway
from facade.settings import load_settings

from .conftest import WRITER_KEY, memory

WRITER = {"X-API-Key": WRITER_KEY}

SERVED = """
backends:
  x: {kind: xmlrpc, endpoint: "http://127.0.0.1:9/"}
routes:
  GET /api/v1/things/{id}: {backend: x, operation: get, public: true, request: {id: path.id}}
"""


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(SERVED))
    runner, url = await start_gateway(load_settings(path, environ={}), host="127.0.0.1", port=0)
    yield "127.0.0.1", int(url.rsplit(":", 1)[1])
    await runner.cleanup()


async def raw(address: tuple[str, int], request: bytes) -> bytes:
    """Send raw bytes, return the status line (or b'' if the server just closed)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


def get(path: str = "/healthz", headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n".encode()


async def test_a_sane_request_passes(served: tuple[str, int]) -> None:
    """The raw client itself is fine: a plain GET /healthz answers 200."""
    assert b" 200 " in await raw(served, get())


@pytest.mark.parametrize(
    ("name", "request_bytes"),
    [
        ("control character in a value", get(headers="X-Note: a\x01b\r\n")),
        ("NUL in a value", get(headers="X-Note: a\x00b\r\n")),
        ("header line over 8 KiB", get(headers=f"X-Big: {'a' * 9000}\r\n")),
        ("65 headers", get(headers="".join(f"X-H{i}: v\r\n" for i in range(65)))),
        ("URL over 8 KiB", get(path="/api/v1/things/" + "a" * 9000)),
    ],
)
async def test_malformed_or_oversize_headers_are_refused(
    served: tuple[str, int], name: str, request_bytes: bytes
) -> None:
    """Control characters, huge header lines, too many headers and huge URLs get a 4xx, not served."""
    status = await raw(served, request_bytes)
    assert status == b"" or status.split()[1].startswith(b"4"), status


@pytest.mark.parametrize("value", ["a\x01b", "a\x1bb", "a\x7fb", "a\rb"])
async def test_control_characters_are_refused_by_the_gateway_itself(value: str) -> None:
    """Whatever the parser lets through, the header guard answers 400 invalid_header (tab is fine)."""
    from aiohttp.test_utils import make_mocked_request

    from facade.middlewares.headers import guard_headers
    from facade.problems import Problem

    with pytest.raises(Problem) as refused:
        guard_headers(make_mocked_request("GET", "/", headers={"X-Note": value}))
    assert (refused.value.status, refused.value.code) == (400, "invalid_header")
    guard_headers(make_mocked_request("GET", "/", headers={"X-Note": "a\tb"}))  # no exception


@pytest.mark.parametrize(
    ("raw", "carries"),
    [
        (((b"Host", b"x"), (b"X-Note", b"a\tb")), False),
        (((b"Host", b"x"), (b"X-Note", b"a\x00b")), True),
        (((b"X-No\x01te", b"ab"),), True),
        (((b"Host", b"x\n"),), True),
        ((), False),
    ],
)
def test_a_control_character_in_any_header_name_or_value_is_found(
    raw: tuple[tuple[bytes, bytes], ...], carries: bool
) -> None:
    """The check the guard and the hit lane share finds a control character in a name or value."""
    from facade.middlewares.headers import carries_control_characters

    assert carries_control_characters(raw) is carries


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * (64 * 1024 + 1)}, "body.name"),
        ({"k" * (64 * 1024 + 1): 1}, "body"),
        ({"list": ["ok", "y" * (64 * 1024 + 1)]}, "body.list.1"),
    ],
)
async def test_overlong_strings_are_refused_before_the_schema(
    client: TestClient, body: object, field: str
) -> None:
    """A string value or key over api.max_string_length is a 400 naming the field; no backend call."""
    response = await client.put("/api/v1/things/1", json=body, headers=WRITER)
    problem = await response.json(content_type=None)
    assert response.status == 400 and problem["code"] == "validation_failed"
    assert problem["errors"][0]["field"] == field
    assert memory(client).calls == []


@pytest.mark.parametrize(
    ("body", "field", "code_point"),
    [
        ({"name": "a\x00b"}, "body.name", "U+0000"),
        ({"name": "bell\x07"}, "body.name", "U+0007"),
        ({"list": ["ok", "esc\x1b[31m"]}, "body.list.1", "U+001B"),
        ({"name": "a\ufffeb"}, "body.name", "U+FFFE"),
        ({"bad\x01key": 1}, "body", "U+0001"),
    ],
)
async def test_text_xml_cannot_carry_is_refused_before_any_backend(
    client: TestClient, body: object, field: str, code_point: str
) -> None:
    """A control character or noncharacter in a body string or key is a 400 naming the field and
    the character: a SOAP or XML-RPC request holding it would not be XML."""
    response = await client.put("/api/v1/things/1", json=body, headers=WRITER)
    problem = await response.json(content_type=None)
    assert response.status == 400 and problem["code"] == "validation_failed"
    assert problem["errors"][0]["field"] == field
    assert code_point in problem["errors"][0]["message"]
    assert memory(client).calls == []


async def test_tabs_and_line_breaks_in_text_pass(client: TestClient) -> None:
    """Multi-line notes are ordinary text: tab, newline and carriage return reach the backend."""
    note = {"note": "line one\r\nline two\tend"}
    response = await client.put("/api/v1/things/1", json=note, headers=WRITER)
    assert response.status == 200, await response.text()
    assert memory(client).calls[-1][1]["record"] == note


async def test_deep_nesting_is_refused(client: TestClient) -> None:
    """A body nested 10,000 deep is measured without recursion and refused."""
    deep = "[" * 10_000 + "]" * 10_000
    response = await client.put(
        "/api/v1/things/1",
        data=f'{{"a": {deep}}}',
        headers={**WRITER, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert memory(client).calls == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/things/..%2F..%2Fadmin",
        "/api/v1/things/a%5Cb",
        "/api/v1/things/%2e%2e",
        "/api/v1/things/a%252Fb",
        "/api/v1/things/a%00b",
    ],
)
async def test_path_parameters_cannot_address_something_else(client: TestClient, path: str) -> None:
    """Encoded slashes, backslashes, dot segments and control characters in a path value are 400."""
    response = await client.get(path, headers=WRITER)
    assert response.status in (400, 404), await response.text()
    assert memory(client).calls == []


async def test_writes_need_json(client: TestClient) -> None:
    """A write with another content type is 415 before anything else happens."""
    response = await client.put(
        "/api/v1/things/1", data="name=x", headers={**WRITER, "Content-Type": "text/plain"}
    )
    assert response.status == 415 and memory(client).calls == []


async def test_credentials_never_reach_a_backend_template(client: TestClient) -> None:
    """Templates see declared headers only: the caller's Authorization is not in the header scope."""
    await client.put("/api/v1/things/1", json={"name": "x"}, headers=WRITER)
    ((_, params),) = memory(client).calls
    assert WRITER_KEY not in str(params)
