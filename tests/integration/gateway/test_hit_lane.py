"""The hit lane answers a fresh cache hit exactly as the pipeline does, and steps aside otherwise.

Two gateways on the shipped configuration share one sandbox and one fake clock: one serves with
the lane, the other with ``listen.hit_lane: false``. Each request below is sent to both over a
kept-alive connection, after a first request that fills the cache; the lane's gateway must have
answered it from the lane (its counter says so) with the same status, headers, body, access line
and metrics as the pipeline's.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from facade.app import METRICS, create_app
from facade.connection import HIT_LANE, _LaneConnection
from facade.hitlane import HitLane
from facade.runtime import Runtime
from facade.security import DEMO_API_KEY
from facade.security.install import SECURITY
from facade.security.tokens import REMEMBER_S
from facade.settings import Settings, load_settings
from resilience import FakeClock
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
KEY = {"X-API-Key": DEMO_API_KEY}


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
    with access_log() as log:
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
        warm = await exchange(client, path, headers)
        assert warm["status"] == 200, warm["body"]
        answered = gateways.hit_lane.answered
        answer = await exchange(client, path, headers)
        line = last_access_line(gateways.log)
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


async def _pipeline_answers(gateways: Gateways, path: str, headers: dict[str, str]) -> int:
    """Warm both gateways with ``KEY``, send ``headers`` to both; assert the lane stepped aside
    and the two answers are the same. Returns the status."""
    answers = []
    for client in (gateways.lane, gateways.pipeline):
        assert (await exchange(client, path, KEY))["status"] == 200
        answered = gateways.hit_lane.answered
        answers.append(await exchange(client, path, headers))
        assert gateways.hit_lane.answered == answered, "the lane answered"
    lane, pipe = answers
    assert (lane["status"], lane["headers"]) == (pipe["status"], pipe["headers"])
    assert without_request_id(lane["body"]) == without_request_id(pipe["body"])
    return int(lane["status"])


async def test_a_conditional_get_is_left_to_the_pipeline(gateways: Gateways) -> None:
    """If-None-Match with the current ETag gets the pipeline's 304, not a lane answer."""
    for client in (gateways.lane, gateways.pipeline):
        etag = (await exchange(client, ORDER, KEY))["headers"]
    etag = dict(etag)["etag"]
    assert await _pipeline_answers(gateways, ORDER, {**KEY, "If-None-Match": etag}) == 304


async def test_a_cross_origin_read_is_left_to_the_pipeline(gateways: Gateways) -> None:
    """A request with an Origin header gets the pipeline's answer, CORS decisions and all."""
    assert await _pipeline_answers(gateways, ORDER, {**KEY, "Origin": "https://app.example"}) == 200


async def test_an_unknown_key_is_refused_by_the_pipeline(gateways: Gateways) -> None:
    """A key the gateway never accepted is verified (and refused, 401) by the pipeline."""
    assert await _pipeline_answers(gateways, ORDER, {"X-API-Key": "vk_not_a_known_key_0000"}) == 401


async def test_a_caller_without_the_scope_is_refused_by_the_pipeline(gateways: Gateways) -> None:
    """A remembered token whose scopes do not cover the route gets the pipeline's 403."""
    narrow = bearer(gateways.settings, scopes=["customers:read"])
    for client in (gateways.lane, gateways.pipeline):  # the token is verified, then remembered
        assert (await client.get("/api/v1/customers/7", headers=narrow)).status == 200
    assert await _pipeline_answers(gateways, ORDER, narrow) == 403


async def test_an_empty_bucket_is_refused_by_the_pipeline(gateways: Gateways) -> None:
    """Once the caller's bucket is empty the lane takes no token and the pipeline says 429."""
    statuses = []
    for _ in range(1001):  # the fixture's burst is 1000, and the fake clock refills nothing
        statuses.append((await exchange(gateways.lane, ORDER, KEY))["status"])
    assert statuses[:1000] == [200] * 1000
    answered = gateways.hit_lane.answered
    refused = await exchange(gateways.lane, ORDER, KEY)
    assert refused["status"] == 429
    assert gateways.hit_lane.answered == answered
    assert dict(refused["headers"])["ratelimit"].startswith('"default";r=0;')


async def test_a_stale_entry_is_left_to_the_pipeline(gateways: Gateways) -> None:
    """Past its ttl an entry is the pipeline's to serve (stale, with a refresh in the background)."""
    for client in (gateways.lane, gateways.pipeline):
        assert (await exchange(client, ORDER, KEY))["status"] == 200
    gateways.clock.advance(16)  # the order's ttl is 15 s, stale-while-revalidate 30 s
    answered = gateways.hit_lane.answered
    stale = await exchange(gateways.lane, ORDER, KEY)
    assert gateways.hit_lane.answered == answered
    assert ("veneer-stale", "true") in stale["headers"]


async def _lane_answers_again(gateways: Gateways, path: str, headers: dict[str, str]) -> None:
    """Warm ``path`` on the lane's gateway and see the lane answer it (and remember the request)."""
    assert (await exchange(gateways.lane, path, headers))["status"] == 200
    answered = gateways.hit_lane.answered
    assert (await exchange(gateways.lane, path, headers))["status"] == 200
    assert gateways.hit_lane.answered == answered + 1


async def test_a_write_through_the_gateway_ends_what_the_lane_remembered(
    gateways: Gateways,
) -> None:
    """After a PATCH of a customer, the same client's next read of it is not answered from the
    entry cached before the write: the pipeline asks the CRM and the new phone number shows."""
    path = "/api/v1/customers/7"
    await _lane_answers_again(gateways, path, KEY)
    answered = gateways.hit_lane.answered
    await idle()
    writer = bearer(gateways.settings)
    async with gateways.lane.patch(path, json={"phone": "+49 30 5550107"}, headers=writer) as reply:
        assert reply.status == 200, await reply.text()
    after = await exchange(gateways.lane, path, KEY)
    assert gateways.hit_lane.answered == answered
    assert "fwd=miss" in dict(after["headers"])["cache-status"]
    assert orjson.loads(after["body"])["phone"] == "+49 30 5550107"


async def test_a_remembered_bearer_token_is_checked_again_on_every_answer(
    gateways: Gateways,
) -> None:
    """Once the verifier no longer vouches for a token the lane answered for (the time it keeps
    a verified token ran out), the lane steps aside and the pipeline verifies the token again;
    after that the lane answers for it again."""
    headers = bearer(gateways.settings)
    await _lane_answers_again(gateways, ORDER, headers)
    verifier = gateways.lane.app[SECURITY].authenticator.jwt
    assert verifier is not None
    later = time.time() + REMEMBER_S + 1  # the verifier's clock, past what it remembered
    verifier._now = lambda: later
    answered = gateways.hit_lane.answered
    again = await exchange(gateways.lane, ORDER, headers)
    assert gateways.hit_lane.answered == answered
    assert again["status"] == 200  # verified again: the token itself is good for a day
    assert (await exchange(gateways.lane, ORDER, headers))["status"] == 200
    assert gateways.hit_lane.answered == answered + 1


async def test_a_header_with_a_control_character_is_never_answered_by_the_lane(
    gateways: Gateways,
) -> None:
    """A header value with a control character is refused with a 400, not answered by the lane
    (aiohttp's C parser refuses it first; the lane's own check covers its pure-Python one)."""
    raw = await Raw.open(gateways.lane)
    await raw.send(get(ORDER))  # a new connection's first request: always the pipeline's
    assert (await raw.answer())[0] == 200
    answered = gateways.hit_lane.answered
    await raw.send(get(ORDER, extra=b"X-Note: a\x01b\r\n"))
    assert (await raw.answer())[0] == 400
    assert gateways.hit_lane.answered == answered
    await raw.close()


async def test_pipelined_requests_are_answered_in_order_by_aiohttp(gateways: Gateways) -> None:
    """Two requests in one write are both answered, in order, and the lane leaves both alone."""
    raw = await Raw.open(gateways.lane)
    await raw.send(get(ORDER))
    assert (await raw.answer())[0] == 200
    answered = gateways.hit_lane.answered
    await raw.send(get(ORDER), get("/api/v1/orders/SO-999999"))
    first, second = await raw.answer(), await raw.answer()
    assert (first[0], second[0]) == (200, 404)
    assert gateways.hit_lane.answered == answered
    await raw.close()


async def test_a_request_split_over_two_writes_is_answered(gateways: Gateways) -> None:
    """A request whose bytes arrive in two pieces is answered once it is whole."""
    raw = await Raw.open(gateways.lane)
    await raw.send(get(ORDER))
    expected = await raw.answer()
    answered = gateways.hit_lane.answered
    request = get(ORDER)
    await raw.send(request[:20])
    await raw.send(request[20:])
    status, headers, body = await raw.answer()
    assert (status, body) == (200, expected[2])
    assert headers["cache-status"].startswith("veneer; hit")
    assert gateways.hit_lane.answered == answered + 1
    await raw.close()


@pytest.mark.parametrize(("version", "extra"), [("1.0", b""), ("1.1", b"Connection: close\r\n")])
async def test_a_request_that_ends_its_connection_is_left_to_aiohttp(
    gateways: Gateways, version: str, extra: bytes
) -> None:
    """HTTP/1.0 and ``Connection: close`` are answered by aiohttp, which then closes."""
    raw = await Raw.open(gateways.lane)
    await raw.send(get(ORDER))
    assert (await raw.answer())[0] == 200
    answered = gateways.hit_lane.answered
    await raw.send(get(ORDER, version=version, extra=extra))
    status, headers, _ = await raw.answer()
    assert status == 200 and headers["cache-status"].startswith("veneer; hit")
    assert gateways.hit_lane.answered == answered
    assert await raw.reader.read() == b""  # closed by the server
    await raw.close()


async def test_a_failing_lane_costs_no_answer(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the lane itself fail, the pipeline answers the request and the fault is logged."""

    def broken(*_: object) -> bytes:
        raise RuntimeError("a fault in the lane")

    monkeypatch.setattr(gateways.hit_lane, "answer", broken)
    raw = await Raw.open(gateways.lane)
    await raw.send(get(ORDER))
    assert (await raw.answer())[0] == 200
    await raw.send(get(ORDER))
    status, headers, _ = await raw.answer()
    assert status == 200 and headers["cache-status"].startswith("veneer; hit")
    assert "a lane failed" in gateways.log.getvalue()
    await raw.close()


def _arriving_early(monkeypatch: pytest.MonkeyPatch, request: bytes) -> None:
    """Make ``request`` arrive on a connection the moment its first answer is written, before
    the handler task comes back for the next one: what a quick client does under load."""
    handle = _LaneConnection._handle_request
    sent: set[int] = set()

    async def racing(connection: _LaneConnection, *args: Any) -> tuple[web.StreamResponse, bool]:
        result = await handle(connection, *args)
        if id(connection) not in sent:
            sent.add(id(connection))
            connection.data_received(request)
        return result

    monkeypatch.setattr(_LaneConnection, "_handle_request", racing)


async def test_a_request_sent_before_the_handler_task_is_back_is_answered_by_the_lane(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit arriving after the last answer was written, but before aiohttp's handler task has
    come back around for it, is the lane's: nothing is in flight. (Under load this is where
    most requests arrive, and without it a connection never left the pipeline.) The answers
    come in order and the connection goes on serving."""
    await exchange(gateways.lane, ORDER, KEY)  # cached
    _arriving_early(monkeypatch, get(ORDER))
    raw = await Raw.open(gateways.lane)
    answered = gateways.hit_lane.answered
    await raw.send(get("/api/v1/orders/SO-100002"))  # not cached: the pipeline's
    first, second = await raw.answer(), await raw.answer()
    assert first[0] == 200 and b"SO-100002" in first[2]
    assert second[0] == 200 and b"SO-100001" in second[2]
    assert gateways.hit_lane.answered == answered + 1
    await raw.send(get(ORDER))
    assert (await raw.answer())[0] == 200
    assert gateways.hit_lane.answered == answered + 2
    await raw.close()


async def test_a_request_the_lane_declines_then_waits_for_the_handler_task(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request arriving in that moment that the lane cannot answer is queued for aiohttp's
    handler task, which answers it after the first, in order."""
    await exchange(gateways.lane, ORDER, KEY)
    _arriving_early(monkeypatch, get("/api/v1/orders/SO-999999"))
    raw = await Raw.open(gateways.lane)
    answered = gateways.hit_lane.answered
    await raw.send(get("/api/v1/orders/SO-100002"))  # not cached: the pipeline's
    first, second = await raw.answer(), await raw.answer()
    assert (first[0], second[0]) == (200, 404)
    assert gateways.hit_lane.answered == answered
    await raw.close()


async def test_nothing_is_answered_after_an_answer_that_closes_the_connection(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an answer that ends the connection (the client asked it to), a request arriving
    before the handler task is back is answered by no one: the connection closes."""
    await exchange(gateways.lane, ORDER, KEY)
    _arriving_early(monkeypatch, get(ORDER))
    raw = await Raw.open(gateways.lane)
    answered = gateways.hit_lane.answered
    await raw.send(get(ORDER, extra=b"Connection: close\r\n"))
    assert (await raw.answer())[0] == 200
    assert await raw.reader.read() == b""
    assert gateways.hit_lane.answered == answered
    await raw.close()
