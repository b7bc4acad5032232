"""The hit lane answers a fresh cache hit exactly as the pipeline does, and steps aside otherwise.

Two gateways on the shipped configuration share one sandbox and one fake clock: one serves with
the lane, the other with ``listen.hit_lane: false``. Each request below is sent to both over a
kept-alive connection, after a first request that fills the cache; the lane's gateway must have
answered it from the lane (its counter says so) with the same status, headers, body, access line
and metrics as the pipeline's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from facade.app import METRICS, create_app
from facade.connection import HIT_LANE
from facade.hitlane import HitLane
from facade.logs import configure_logging
from facade.runtime import Runtime
from facade.security import DEMO_API_KEY
from facade.settings import Settings, load_settings
from resilience import FakeClock
from sandbox.runner import Sandbox
from tests.support.credentials import bearer
from tests.support.environment import sandbox_env
from tests.support.serving import GatewayTestServer

Client = Callable[..., Awaitable[TestClient]]
ORDER = "/api/v1/orders/SO-100001"
KEY = {"X-API-Key": DEMO_API_KEY}
#: set per answer, so never equal between two gateways
PER_ANSWER = {"date", "x-request-id"}


@dataclasses.dataclass
class Gateways:
    lane: TestClient
    pipeline: TestClient
    settings: Settings
    clock: FakeClock
    log: io.StringIO

    @property
    def hit_lane(self) -> HitLane:
        return self.lane.app[HIT_LANE]  # type: ignore[index]


@pytest.fixture
async def gateways(
    sandbox: Sandbox, repo_root: Path, tmp_path: Path, aiohttp_client: Client, clock: FakeClock
) -> AsyncIterator[Gateways]:
    log = io.StringIO()
    configure_logging("info", "json", log)
    clients = []
    for lane in (True, False):
        data = tmp_path / ("lane" if lane else "pipeline")
        env = {**sandbox_env(sandbox, data), "VENEER_RATE_LIMIT_BURST": "1000"}
        settings = load_settings(repo_root / "config" / "gateway.yaml", environ=env)
        settings = dataclasses.replace(
            settings, listen=dataclasses.replace(settings.listen, hit_lane=lane)
        )
        app = create_app(await Runtime.open(settings, clock=clock), outbox_worker=False)
        clients.append(await aiohttp_client(GatewayTestServer(app)))
    assert HIT_LANE not in clients[1].app  # type: ignore[operator]
    yield Gateways(clients[0], clients[1], settings, clock, log)
    configure_logging("info", "json", io.StringIO())


async def _idle() -> None:
    """Let the server's connection go back to waiting for the next request (no real time)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def _exchange(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    await _idle()
    async with client.get(path, headers=headers, auto_decompress=False) as reply:
        body = await reply.read()
        answer = {
            "status": reply.status,
            "headers": sorted(
                (name.decode().lower(), value.decode())
                for name, value in reply.raw_headers
                if name.decode().lower() not in PER_ANSWER
            ),
            "request_id": reply.headers.get("X-Request-ID"),
            "body": body,
        }
    await _idle()
    return answer


def _last_access_line(log: io.StringIO) -> dict[str, Any]:
    lines = [orjson.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    line = [entry for entry in lines if entry.get("event") == "request"][-1]
    return {k: v for k, v in line.items() if k not in {"ms", "ts", "request_id"}}


def _counts(app: web.Application, route: str) -> tuple[float, float]:
    """(HTTP requests answered 200, cache hits) the app counted for ``route``."""
    requests = hits = 0.0
    for family in app[METRICS].registry.collect():
        for sample in family.samples:
            labels = sample.labels
            if labels.get("route") != route:
                continue
            if sample.name == "veneer_http_requests_total" and labels.get("outcome") == "200":
                requests += sample.value
            if sample.name == "veneer_cache_lookups_total" and labels.get("result") == "hit":
                hits += sample.value
    return requests, hits


CASES = {
    "order with an API key": (ORDER, KEY),
    "order with a bearer token": (ORDER, None),
    "the client's own request id": (ORDER, {**KEY, "X-Request-ID": "client-chosen-id-0001"}),
    "a list with its query, compressible, no encoding asked": (
        "/api/v1/orders?status=Released&customer=C00040",
        KEY,
    ),
    "a list, gzip asked": ("/api/v1/orders?status=Released", {**KEY, "Accept-Encoding": "gzip"}),
    "a list, brotli preferred": ("/api/v1/orders", {**KEY, "Accept-Encoding": "br, gzip;q=0.5"}),
    "a CRM customer": ("/api/v1/customers/7", KEY),
    "WMS stock": ("/api/v1/products/1000-GR/stock", KEY),
    "a query in another order than the cached one's": (
        "/api/v1/orders?customer=C00040&status=Released",
        KEY,
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_lane_answers_a_fresh_hit_as_the_pipeline_does(
    gateways: Gateways, case: str
) -> None:
    """A fresh hit gets the same status, headers, body, access line and metrics from the lane."""
    path, headers = CASES[case]
    headers = headers if headers is not None else bearer(gateways.settings)
    answers = []
    for client in (gateways.lane, gateways.pipeline):
        warm = await _exchange(client, path, headers)
        assert warm["status"] == 200, warm["body"]
        answered = gateways.hit_lane.answered
        answer = await _exchange(client, path, headers)
        line = _last_access_line(gateways.log)
        counted = _counts(client.app, line["route"])  # type: ignore[arg-type]
        answers.append((answer, line, counted, gateways.hit_lane.answered - answered))
    (lane, lane_line, lane_counts, by_lane), (pipe, pipe_line, pipe_counts, by_pipe) = answers
    assert by_lane == 1, "the lane did not answer the fresh hit"
    assert by_pipe == 0
    assert lane["headers"] == pipe["headers"]
    assert lane["body"] == pipe["body"]
    assert lane["status"] == pipe["status"] == 200
    assert lane_line == pipe_line
    assert lane_line["cache"].startswith("veneer; hit")
    assert lane_counts == pipe_counts  # both counted two answers and one hit for the route
    if "X-Request-ID" in headers:
        assert lane["request_id"] == pipe["request_id"] == headers["X-Request-ID"]
    else:
        assert lane["request_id"] and lane["request_id"] != pipe["request_id"]
