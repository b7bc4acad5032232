"""The access log: one JSON line per request with its backend calls, cache outcome and caller."""

from __future__ import annotations

import io

import orjson
from aiohttp.test_utils import TestClient

from facade.logs import configure_logging
from tests.unit.facade.test_routing import client  # noqa: F401 - the fixture, used by name


async def test_one_line_per_request_with_backend_calls(client: TestClient) -> None:  # noqa: F811
    """A GET writes one access line naming route, status, latency and the backend call it made."""
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    await client.get("/api/v1/things/1", headers={"X-Request-ID": "req-12345678"})
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-12345678"
    assert line["route"] == "/api/v1/things/{id}"
    assert line["status"] == 200
    assert line["ms"] >= 0
    assert line["client"] == "api_key:tester"
    assert [(c["backend"], c["operation"], c["outcome"]) for c in line["backend_calls"]] == [
        ("mem", "get", "success")
    ]
