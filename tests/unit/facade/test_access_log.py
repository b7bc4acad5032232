"""The access log: one JSON line per request with its backend calls, cache outcome and caller."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from facade.logs import ACCESS_LOG, configure_logging
from facade.metrics import Metrics
from facade.middlewares.access_log import AccessRecorder
from tests.unit.facade.test_logs import Terminal
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


def _written(stream: io.StringIO) -> list[bytes]:
    ACCESS_LOG.flush()
    return [line.encode() for line in stream.getvalue().splitlines() if '"event"' in line]


@pytest.mark.parametrize("caller", ["api_key:demo", None])
def test_a_prepared_line_writes_what_record_fields_writes(caller: str | None) -> None:
    """The hit lane's prepared line is byte for byte the line record_fields writes for the same
    request (same fields, same order), but for the timestamp, with and without a caller, and
    counts the request in the same metrics."""
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    metrics = [Metrics(), Metrics()]
    path, route = '/api/v1/orders/SO-"1"\\', "/api/v1/orders/{no}"  # characters JSON escapes
    cache = "veneer; hit; ttl=12"
    context: dict[str, Any] = {"request_id": "6f63e37ae9d3000000000001"}
    if caller is not None:
        context["caller"] = caller
    AccessRecorder(metrics[0]).record_fields(
        "GET", path, route, 200, 0.00123, [], cache, "api_key:demo", context
    )
    prepared = AccessRecorder(metrics[1]).prepared("GET", path, route, "api_key:demo", caller)
    prepared.record("6f63e37ae9d3000000000001", 200, 0.00123, cache)
    by_fields, by_prepared = (orjson.loads(line) for line in _written(stream))
    assert by_fields.pop("ts") and by_prepared.pop("ts")
    assert orjson.dumps(by_prepared) == orjson.dumps(by_fields)  # same values, same order
    assert ("caller" in by_prepared) is (caller is not None)
    assert [_samples(m) for m in metrics[1:]] == [_samples(metrics[0])]


def test_a_prepared_line_goes_through_structlog_without_a_json_stream() -> None:
    """On a terminal (no JSON stream) the prepared line is handed over as fields, as every
    other line, so it is rendered for people rather than as JSON."""
    stream = Terminal()
    configure_logging("info", "auto", stream)
    prepared = AccessRecorder().prepared("GET", "/api/v1/x", "/api/v1/x", "anonymous", None)
    prepared.record("6f63e37ae9d3000000000002", 200, 0.001, "veneer; hit; ttl=3")
    text = stream.getvalue()
    assert "6f63e37ae9d3000000000002" in text and "veneer; hit; ttl=3" in text
    assert not text.lstrip().startswith("{")


def test_the_line_timestamp_is_utc_to_the_millisecond() -> None:
    """Each line's ts is ISO 8601 UTC with milliseconds and Z, and within a second of now."""
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    before = dt.datetime.now(dt.UTC)
    AccessRecorder().prepared("GET", "/x", "/x", "anonymous", None).record("r" * 8, 200, 0, "c")
    (line,) = _written(stream)
    stamp = orjson.loads(line)["ts"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before - dt.timedelta(milliseconds=1) <= moment <= before + dt.timedelta(seconds=1)


def _samples(metrics: Metrics) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in metrics.registry.collect()
        if family.name.startswith("veneer_http")
        for sample in family.samples
    ]
