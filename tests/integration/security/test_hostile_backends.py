"""Hostile legacy systems, over real sockets, through the whole gateway.

Each reply below has taken down a real integration somewhere: entity bombs, external entities,
10,000-deep nesting, millions of tiny elements, endless or slow bodies, a 512 MB gzip bomb, a
10 GB Content-Length, endless headers, and TCP frames announcing 1 KiB or 2 GiB. Each must be
refused with a 502/504 problem within a few seconds, with the gateway's peak memory growing by
less than 50 MB, logged, and counted by the backend's breaker. The hostile servers run in their
own process (:mod:`tests.integration.security.hostile`), so the memory measured is the gateway's.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import structlog
from aiohttp.test_utils import TestClient

from facade.app import RUNTIME, create_app
from facade.runtime import Runtime
from facade.settings import load_settings
from tests.support.credentials import TEST_API_KEY, TEST_API_KEY_HASH

Client = Callable[..., Awaitable[TestClient]]
REPO = Path(__file__).resolve().parents[3]
RSS_BUDGET_KB = 50 * 1024
TIME_BUDGET_S = 5.0
KEY = {"X-API-Key": TEST_API_KEY}

CONFIG = """
auth:
  api_keys:
    clients:
      tester: {hash: "HASH", scopes: [orders:read, leads:read, stock:read]}
rate_limit: {enabled: false}
backends:
  erp:
    kind: soap
    endpoint: http://127.0.0.1:HTTP/WS
    options:
      services: {SalesOrder: REPO/config/wsdl/nav-salesorder.wsdl}
    timeouts: {connect: 1s, read: 1s}
    retry: {attempts: 1}
    breaker: &patient {consecutive_failures: 1000, minimum_calls: 100, window_size: 100}
  crm:
    kind: xmlrpc
    endpoint: http://127.0.0.1:HTTP
    timeouts: {connect: 1s, read: 1s}
    retry: {attempts: 1}
    breaker: *patient
  wms:
    kind: fishbowl
    endpoint: tcp://127.0.0.1:TCP
    credentials: {username: admin, password: "${WMS_PASSWORD}"}
    options: {app_id: 1}
    timeouts: {connect: 1s, read: 1s}
    retry: {attempts: 1}
    breaker: *patient
routes:
  GET /api/v1/orders/{no}: {backend: erp, operation: SalesOrder.Read, request: {No: path.no}}
  GET /api/v1/leads/{id}: {backend: crm, operation: lead.read, request: {id: path.id}}
  GET /api/v1/stock/{sku}: {backend: wms, operation: InvQty, request: {PartNum: path.sku}}
"""


class Hostile:
    def __init__(self, process: subprocess.Popen[str], ports: dict[str, int]) -> None:
        self.process = process
        self.ports = ports

    def control(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.ports['http']}{path}"
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.read().decode()


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.security.hostile"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    ports = {k: int(v) for k, v in (part.split("=") for part in line.split())}
    try:
        yield Hostile(process, ports)
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def gateway(hostile: Hostile, tmp_path: Path, aiohttp_client: Client) -> TestClient:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        textwrap.dedent(CONFIG)
        .replace("HASH", TEST_API_KEY_HASH)
        .replace("HTTP", str(hostile.ports["http"]))
        .replace("TCP", str(hostile.ports["tcp"]))
        .replace("REPO", str(REPO))
    )
    settings = load_settings(config, environ={"WMS_PASSWORD": "wms-password-0001"})
    runtime = await Runtime.open(settings)
    return await aiohttp_client(create_app(runtime, outbox_worker=False))


async def refused(gateway: TestClient, path: str, backend: str) -> tuple[int, str]:
    """Call ``path``; check time, memory, log and breaker; return (status, logged error class)."""
    breaker = gateway.app[RUNTIME].policies[backend].breaker(None)
    failures_before = breaker.snapshot().failures
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with structlog.testing.capture_logs() as logs:
        response = await gateway.get(path, headers=KEY)
        body = await response.json(content_type=None)
    elapsed = time.monotonic() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert elapsed < TIME_BUDGET_S, f"took {elapsed:.1f}s"
    assert grown < RSS_BUDGET_KB, f"peak RSS grew by {grown // 1024} MB"
    assert body["code"] in {"bad_gateway", "backend_timeout"}, body
    assert "request_id" in body and "lol" not in str(body) and "DOCTYPE" not in str(body)
    failed = [e for e in logs if e["event"] in {"backend call failed", "backend call declined"}]
    assert failed and failed[0]["backend"] == backend, logs
    assert breaker.snapshot().failures == failures_before + 1, "the breaker did not count it"
    return response.status, failed[0]["error"]


SOAP_CASES = [
    ("soap_billion_laughs", 502, "ProtocolError"),
    ("soap_external_entity", 502, "ProtocolError"),
    ("soap_deep", 502, "ProtocolError"),
    ("soap_many_elements", 502, "ProtocolError"),
    ("gzip_bomb", 502, "ProtocolError"),
    ("huge_declared", 502, "ProtocolError"),
    ("endless_fast", 502, "ProtocolError"),
    ("endless_slow", 504, "BackendTimeout"),
    ("endless_headers", 502, "ProtocolError"),
]


@pytest.mark.parametrize(("mode", "status", "error"), SOAP_CASES)
async def test_hostile_soap_replies_are_refused(
    gateway: TestClient, hostile: Hostile, mode: str, status: int, error: str
) -> None:
    """The SOAP backend's hostile reply is a 502/504, bounded in time and memory, logged, counted."""
    hostile.control(f"/__mode__/{mode}")
    got_status, got_error = await refused(gateway, "/api/v1/orders/SO-1", "erp")
    assert (got_status, got_error) == (status, error)
    assert hostile.control("/__canary__") == "0", "an external entity was fetched"


XMLRPC_CASES = [
    ("xmlrpc_billion_laughs", 502, "ProtocolError"),
    ("xmlrpc_external_entity", 502, "ProtocolError"),
    ("xmlrpc_deep", 502, "ProtocolError"),
    ("xmlrpc_many_values", 502, "ProtocolError"),
    ("gzip_bomb", 502, "ProtocolError"),
    ("endless_fast", 502, "ProtocolError"),
]


@pytest.mark.parametrize(("mode", "status", "error"), XMLRPC_CASES)
async def test_hostile_xmlrpc_replies_are_refused(
    gateway: TestClient, hostile: Hostile, mode: str, status: int, error: str
) -> None:
    """The XML-RPC backend's hostile reply is refused the same way."""
    hostile.control(f"/__mode__/{mode}")
    assert await refused(gateway, "/api/v1/leads/1", "crm") == (status, error)
    assert hostile.control("/__canary__") == "0", "an external entity was fetched"


TCP_CASES = [
    ("announce_2g", 502, "ProtocolError"),
    ("announce_1k_then_flood", 502, "ProtocolError"),
    ("drip", 504, "BackendTimeout"),
]


@pytest.mark.parametrize(("behaviour", "status", "error"), TCP_CASES)
async def test_hostile_tcp_frames_are_refused(
    gateway: TestClient, hostile: Hostile, behaviour: str, status: int, error: str
) -> None:
    """A frame announcing 2 GiB, 1 KiB followed by a flood, or a reply that never ends."""
    hostile.control(f"/__tcp__/{behaviour}")
    assert await refused(gateway, "/api/v1/stock/1000-GR", "wms") == (status, error)
