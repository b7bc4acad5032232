"""The call lane serves an uncached read exactly as the pipeline does, and steps aside otherwise.

Two gateways on the shipped configuration with every cache section taken out share one sandbox
and one fake clock: one serves with the call lane, the other with ``listen.call_lane: false``.
Each request below is sent to both over a kept-alive connection, after a first request that
resolves its route; the lane's gateway must have served it from the lane (its counter says so)
with the same status, header lines in the same order, body, access line and metrics as the
pipeline's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from facade.app import METRICS, SERVING, create_app
from facade.calllane import Call, CallLane
from facade.connection import CALL_LANE
from facade.runtime import Runtime
from facade.security import DEMO_API_KEY
from facade.settings import Settings, load_settings
from resilience import FakeClock
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from tests.support.credentials import bearer
from tests.support.environment import sandbox_env
from tests.support.lanes import (
    Raw,
    access_log,
    exchange,
    get,
    idle,
    last_access_line,
    without_request_id,
)
from tests.support.serving import GatewayTestServer

Client = Callable[..., Awaitable[TestClient]]
ORDER = "/api/v1/orders/SO-100001"
STOCK = "/api/v1/products/1000-GR/stock"
KEY = {"X-API-Key": DEMO_API_KEY}


@dataclasses.dataclass
class Gateways:
    lane: TestClient
    pipeline: TestClient
    settings: Settings
    log: io.StringIO

    @property
    def call_lane(self) -> CallLane:
        return self.lane.app[CALL_LANE]  # type: ignore[index]


def _uncached(settings: Settings, *, call_lane: bool) -> Settings:
    """``settings`` with no response cache anywhere, and the call lane on or off."""
    return dataclasses.replace(
        settings,
        routes={k: dataclasses.replace(r, cache=None) for k, r in settings.routes.items()},
        backends={k: dataclasses.replace(b, cache=None) for k, b in settings.backends.items()},
        listen=dataclasses.replace(settings.listen, call_lane=call_lane),
    )


@pytest.fixture
async def gateways(
    sandbox: Sandbox, repo_root: Path, tmp_path: Path, aiohttp_client: Client, clock: FakeClock
) -> AsyncIterator[Gateways]:
    with access_log() as log:
        clients = []
        for lane in (True, False):
            data = tmp_path / ("lane" if lane else "pipeline")
            env = {**sandbox_env(sandbox, data), "VENEER_RATE_LIMIT_BURST": "1000"}
            settings = load_settings(repo_root / "config" / "gateway.yaml", environ=env)
            settings = _uncached(settings, call_lane=lane)
            app = create_app(await Runtime.open(settings, clock=clock), outbox_worker=False)
            clients.append(await aiohttp_client(GatewayTestServer(app)))
        assert CALL_LANE not in clients[1].app  # type: ignore[operator]
        yield Gateways(clients[0], clients[1], settings, log)


def _counts(app: web.Application, route: str) -> dict[str, float]:
    """The HTTP requests the app counted for ``route``, by outcome."""
    counts: dict[str, float] = {}
    for family in app[METRICS].registry.collect():
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "veneer_http_requests_total" and labels.get("route") == route:
                outcome = labels.get("outcome", "")
                counts[outcome] = counts.get(outcome, 0.0) + sample.value
    return counts


async def _both(
    gateways: Gateways,
    path: str,
    headers: dict[str, str],
    *,
    by_lane: int,
    unlike: frozenset[str] = frozenset(),
) -> tuple[dict[str, object], dict[str, object]]:
    """Resolve ``path`` on both gateways and send ``headers`` once, then again; assert the lane served
    ``by_lane`` of the last requests and that the two answers, access lines and request
    metrics are the same (but for the header lines named in ``unlike``). Returns the lane's
    answer and access line."""
    results = []
    for client in (gateways.lane, gateways.pipeline):
        await exchange(client, path, KEY)  # the route resolved on this generation
        await exchange(client, path, headers)  # a bearer token verified, and remembered
        answered = gateways.call_lane.answered
        answer = await exchange(client, path, headers)
        line = last_access_line(gateways.log)
        results.append((answer, line, _counts(client.app, line["route"]), answered))
    (lane, lane_line, lane_counts, before), (pipe, pipe_line, pipe_counts, after) = results
    assert after - before == by_lane, "the lane served a request it should not have, or none"
    assert gateways.call_lane.answered == after  # the pipeline's gateway has no lane
    assert lane["status"] == pipe["status"]
    assert [h for h in lane["headers"] if h[0] not in unlike] == [  # type: ignore[attr-defined]
        h
        for h in pipe["headers"]
        if h[0] not in unlike  # type: ignore[attr-defined]
    ]  # the same lines, in the same order
    assert without_request_id(lane["body"]) == without_request_id(pipe["body"])  # type: ignore[arg-type]
    assert lane_line == pipe_line
    assert lane_counts == pipe_counts
    if "X-Request-ID" in headers:
        assert lane["request_id"] == pipe["request_id"] == headers["X-Request-ID"]
    else:
        assert lane["request_id"] and lane["request_id"] != pipe["request_id"]
    return lane, lane_line


CASES = {
    "a SOAP order": (ORDER, KEY, 200),
    "an order with a bearer token": (ORDER, None, 200),
    "the client's own request id": (ORDER, {**KEY, "X-Request-ID": "client-chosen-id-0002"}, 200),
    "a CRM customer": ("/api/v1/customers/7", KEY, 200),
    "a CRM customer by number": ("/api/v1/customers/by-number/C00040", KEY, 200),
    "WMS stock": (STOCK, KEY, 200),
    "a shipment": ("/api/v1/shipments/S10001", KEY, 200),
    "a fan-out over a query, compressible, no encoding asked": (
        "/api/v1/stock?sku=1000-GR,1001-BL,1002-RD,1003-WH,1004-BK,1005-GR,1006-BL,1007-RD",
        KEY,
        200,
    ),
    "a fan-out, gzip asked": (
        "/api/v1/stock?sku=1000-GR,1001-BL,1002-RD,1003-WH,1004-BK,1005-GR,1006-BL,1007-RD",
        {**KEY, "Accept-Encoding": "gzip"},
        200,
    ),
    "a fan-out, brotli preferred": (
        "/api/v1/stock?sku=1000-GR,1001-BL,1002-RD,1003-WH,1004-BK,1005-GR,1006-BL,1007-RD",
        {**KEY, "Accept-Encoding": "br, gzip;q=0.5"},
        200,
    ),
    "an order the ERP does not have": ("/api/v1/orders/SO-999999", KEY, 404),
    "a customer the CRM does not have": ("/api/v1/customers/999999", KEY, 404),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_lane_serves_an_uncached_read_as_the_pipeline_does(
    gateways: Gateways, case: str
) -> None:
    """An uncached read gets the same status, header lines, body, access line (backend calls
    included) and request metrics from the lane as from the pipeline."""
    path, headers, status = CASES[case]
    headers = headers if headers is not None else bearer(gateways.settings)
    answer, line = await _both(gateways, path, headers, by_lane=1)
    assert answer["status"] == status
    assert line["backend_calls"], "the access line lists no backend call"


async def test_a_backend_failure_is_the_same_problem_from_the_lane(
    gateways: Gateways, sandbox: Sandbox
) -> None:
    """With the ERP down, the lane answers the pipeline's 503 problem, Retry-After and all."""
    for client in (gateways.lane, gateways.pipeline):
        assert (await exchange(client, ORDER, KEY))["status"] == 200
    await sandbox.erp.switch.set(Fault.parse("down"))
    # The retries' backoff moves the shared fake clock, which refills each gateway's bucket
    # at a different moment of its sequence: what is left in it may differ.
    answer, line = await _both(gateways, ORDER, KEY, by_lane=1, unlike=frozenset({"ratelimit"}))
    assert answer["status"] == 503
    assert "retry-after" in dict(answer["headers"])  # type: ignore[arg-type]
    assert {call["outcome"] for call in line["backend_calls"]} != {"success"}


DECLINED = {
    "a conditional read": {**KEY, "If-None-Match": '"anything"'},
    "a cross-origin read": {**KEY, "Origin": "https://app.example"},
    "an If-Match on a read": {**KEY, "If-Match": '"anything"'},
    "a key never accepted": {"X-API-Key": "vk_not_a_known_key_0000"},
    "no credential": {},
}


@pytest.mark.parametrize("case", DECLINED)
async def test_what_the_lane_cannot_decide_is_left_to_the_pipeline(
    gateways: Gateways, case: str
) -> None:
    """CORS, conditionals and unverified credentials are the pipeline's to answer."""
    await _both(gateways, ORDER, DECLINED[case], by_lane=0)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders/SO-100001?include=customer",  # embeds another route's answer
        "/api/v1/orders/SO-100001?fields=no,status",  # trims the answer
        "/api/v1/orders/SO-12",  # an invalid parameter: the pipeline's 400 names it
        "/api/v1/orders?status=Released",  # a paged listing
    ],
)
async def test_reads_the_pipeline_shapes_itself_are_left_to_it(
    gateways: Gateways, path: str
) -> None:
    """Includes, field selection, invalid parameters and paged listings take the pipeline."""
    await _both(gateways, path, KEY, by_lane=0)


async def test_a_caller_without_the_scope_is_refused_by_the_pipeline(gateways: Gateways) -> None:
    """A remembered token whose scopes do not cover the route gets the pipeline's 403."""
    narrow = bearer(gateways.settings, scopes=["customers:read"])
    for client in (gateways.lane, gateways.pipeline):  # the token is verified, then remembered
        assert (await exchange(client, "/api/v1/customers/7", narrow))["status"] == 200
    answer, _ = await _both(gateways, ORDER, narrow, by_lane=0)
    assert answer["status"] == 403


async def test_an_empty_bucket_is_refused_by_the_pipeline(gateways: Gateways) -> None:
    """Once the caller's bucket is empty the lane takes no token and the pipeline says 429."""
    statuses = [(await exchange(gateways.lane, STOCK, KEY))["status"] for _ in range(1000)]
    assert statuses == [200] * 1000  # the fixture's burst; the fake clock refills nothing
    answered = gateways.call_lane.answered
    refused = await exchange(gateways.lane, STOCK, KEY)
    assert refused["status"] == 429
    assert gateways.call_lane.answered == answered
    assert dict(refused["headers"])["ratelimit"].startswith('"default";r=0;')  # type: ignore[arg-type]


class _Held:
    """Holds the lane's calls back until released, and says when one is waiting."""

    def __init__(self, lane: CallLane, monkeypatch: pytest.MonkeyPatch) -> None:
        self.released = asyncio.Event()
        self.waiting = asyncio.Event()
        self.answered = asyncio.Event()
        answer = lane.answer

        async def held(call: Call) -> bytes:
            self.waiting.set()
            await self.released.wait()
            try:
                return await answer(call)
            finally:
                self.answered.set()

        monkeypatch.setattr(lane, "answer", held)

    async def wait(self) -> None:
        async with asyncio.timeout(10):
            await self.waiting.wait()


async def _connected(gateways: Gateways) -> Raw:
    """A kept-alive connection to the lane's gateway whose first request resolved the route."""
    raw = await Raw.open(gateways.lane)
    await raw.send(get(STOCK))  # a new connection's first request: always the pipeline's
    assert (await raw.answer())[0] == 200
    return raw


async def test_a_request_sent_during_a_call_is_answered_after_it(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests that arrive while the lane's call is in flight wait for its answer: the answers
    leave in the order the requests came, and the connection goes on serving."""
    raw = await _connected(gateways)
    held = _Held(gateways.call_lane, monkeypatch)
    await raw.send(get(STOCK))
    await held.wait()
    await raw.send(get("/healthz"), get("/api/v1/orders/SO-999999"))
    await idle()
    assert not raw.reader._buffer, "an answer left before the call's"  # type: ignore[attr-defined]
    held.released.set()
    first, second, third = await raw.answer(), await raw.answer(), await raw.answer()
    assert (first[0], second[0], third[0]) == (200, 200, 404)
    assert b"1000-GR" in first[2]
    await raw.send(get(STOCK))
    assert (await raw.answer())[0] == 200
    await raw.close()


async def test_a_client_leaving_mid_call_costs_nothing(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that hangs up while its call is in flight: the call still ends, its access line
    is written, and the generation it was pinned to is free again."""
    raw = await _connected(gateways)
    held = _Held(gateways.call_lane, monkeypatch)
    await raw.send(get(STOCK))
    await held.wait()
    served = gateways.lane.app[SERVING].current
    assert served.in_flight == 1
    await raw.close()
    await idle()
    held.released.set()
    async with asyncio.timeout(10):
        await held.answered.wait()
    assert served.in_flight == 0
    assert last_access_line(gateways.log)["status"] == 200


async def test_a_graceful_shutdown_answers_the_call_in_flight(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutting the server down waits for the lane's call in flight and sends its answer
    before the connection closes."""
    raw = await _connected(gateways)
    held = _Held(gateways.call_lane, monkeypatch)
    await raw.send(get(STOCK))
    await held.wait()
    server = gateways.lane.server.runner.server  # type: ignore[union-attr]
    assert server is not None
    shutdown = asyncio.create_task(server.shutdown(5))
    await idle()
    assert not shutdown.done(), "the shutdown did not wait for the call"
    held.released.set()
    status, _, body = await raw.answer()
    assert status == 200 and b"1000-GR" in body
    async with asyncio.timeout(10):
        await shutdown
    assert await raw.reader.read() == b""  # and then the connection closed
    await raw.close()


async def test_the_connection_is_not_idle_while_a_call_is_in_flight(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp closes a connection idle past its keep-alive time; one whose call is in flight
    is not idle, even when its keep-alive time runs out meanwhile, and its keep-alive time
    starts again from the call's answer."""
    raw = await _connected(gateways)
    [connection] = gateways.lane.server.runner.server.connections  # type: ignore[union-attr]
    held = _Held(gateways.call_lane, monkeypatch)
    await raw.send(get(STOCK))
    await held.wait()
    connection._next_keepalive_close_time = connection._loop.time() - 1  # ran out
    connection._process_keepalive()  # as its timer would
    assert not connection._force_close, "the connection was closed while its call was in flight"
    held.released.set()
    assert (await raw.answer())[0] == 200
    assert connection._keepalive_handle is not None
    assert connection._next_keepalive_close_time > connection._loop.time()
    await raw.send(get(STOCK))
    assert (await raw.answer())[0] == 200
    await raw.close()


async def test_a_failing_lane_costs_no_answer(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the lane itself fail, the pipeline answers the request and the fault is logged."""

    def broken(*_: object) -> Call:
        raise RuntimeError("a fault in the lane")

    monkeypatch.setattr(gateways.call_lane, "claim", broken)
    raw = await _connected(gateways)
    await raw.send(get(STOCK))
    assert (await raw.answer())[0] == 200
    assert "a lane failed" in gateways.log.getvalue()
    await raw.close()


async def test_a_lane_failing_after_its_claim_closes_the_connection_and_says_so(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the lane fail after it claimed a request (no answer to send), the client is not
    left waiting: the connection closes, and the fault is logged."""

    async def broken(_: Call) -> bytes:
        raise RuntimeError("a fault in the lane")

    monkeypatch.setattr(gateways.call_lane, "answer", broken)
    raw = await _connected(gateways)
    await raw.send(get(STOCK))
    async with asyncio.timeout(10):
        assert await raw.reader.read() == b""
    assert "the call lane failed" in gateways.log.getvalue()
    await raw.close()
