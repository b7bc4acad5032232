"""/metrics, parsed with prometheus_client's parser, against a known sequence of calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from facade.app import create_app
from facade.runtime import Runtime
from facade.settings import load_settings
from facade.worker_metrics import METRICS_DIR_ENV, WORKER_SLOT_ENV, Snapshot
from resilience import FakeClock
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from tests.integration.ops.conftest import Client, admin
from tests.support.credentials import bearer
from tests.support.environment import sandbox_env


async def scrape(ops: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await ops.get("/metrics", headers=admin())
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_backend_calls_cache_and_breakers(
    ops: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """Two GETs of one order, a 404 and a failing ERP show up as exactly those counts and states."""
    await ops.get("/api/v1/orders/SO-100001")  # miss: one ERP call
    await ops.get("/api/v1/orders/SO-100001")  # fresh hit: no ERP call
    await ops.get("/api/v1/orders/SO-999999")  # ERP says nothing there: 404
    await sandbox.erp.switch.set(Fault.parse("down"))
    for n in range(5):  # five failed client calls open the breaker
        await ops.get(f"/api/v1/orders?status=Open&customer=C0000{n}")
    samples = await scrape(ops)
    route = "/api/v1/orders/{no}"
    assert (
        value(samples, "veneer_http_requests_total", route=route, method="GET", status="200") == 2
    )
    assert (
        value(samples, "veneer_http_requests_total", route=route, method="GET", status="404") == 1
    )
    assert (
        value(samples, "veneer_http_request_duration_seconds_count", route=route, method="GET") == 3
    )
    assert (
        value(
            samples,
            "veneer_backend_calls_total",
            backend="erp",
            operation="SalesOrder.Read",
            outcome="success",
        )
        == 2
    )
    assert (
        value(
            samples,
            "veneer_backend_call_duration_seconds_count",
            backend="erp",
            operation="SalesOrder.Read",
        )
        == 2
    )
    failed = value(
        samples,
        "veneer_backend_calls_total",
        backend="erp",
        operation="SalesOrder.ReadMultiple",
        outcome="ConnectFailed",
    )
    assert failed >= 5  # five client calls, some of them retried
    assert value(samples, "veneer_retries_total", backend="erp") == failed - 5
    assert value(samples, "veneer_breaker_state", breaker="erp") == 2  # open
    assert (
        value(
            samples,
            "veneer_breaker_transitions_total",
            breaker="erp",
            from_state="closed",
            to_state="open",
        )
        == 1
    )
    assert value(samples, "veneer_breaker_state", breaker="crm") == 0
    key = "GET /api/v1/orders/{no}"
    assert (
        value(samples, "veneer_cache_lookups_total", route=key, result="miss") == 2
    )  # SO-100001, SO-999999
    assert value(samples, "veneer_cache_lookups_total", route=key, result="hit") == 1


async def test_outbox_depth_by_status(ops: TestClient, sandbox: Sandbox) -> None:
    """Queued writes are counted by status in veneer_outbox_entries."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    order = {"customer_no": "C00040", "lines": [{"sku": "1000-GR", "quantity": 1}]}
    for _ in range(3):
        assert (await ops.post("/api/v1/orders", json=order)).status == 202
    samples = await scrape(ops)
    assert value(samples, "veneer_outbox_entries", status="queued") == 3
    assert value(samples, "veneer_outbox_entries", status="dead") == 0


async def test_forced_states_show_as_gauge_values(ops: TestClient) -> None:
    """Forcing a breaker is visible in veneer_breaker_state (3 = forced_open)."""
    await ops.post(
        "/ops/breakers/wms",
        json={"state": "forced_open", "reason": "metrics test"},
        headers=admin(),
    )
    samples = await scrape(ops)
    assert value(samples, "veneer_breaker_state", breaker="wms") == 3


async def test_a_worker_leaves_what_it_served_in_the_run_directory_as_it_stops(
    sandbox: Sandbox,
    repo_root: Path,
    tmp_path: Path,
    aiohttp_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker of ``serve --workers N`` writes its numbers as it stops, not only once a second,
    so the requests it served just before stay in the gateway's totals."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    monkeypatch.setenv(METRICS_DIR_ENV, str(directory))
    monkeypatch.setenv(WORKER_SLOT_ENV, "3")
    settings = load_settings(
        repo_root / "config" / "gateway.yaml", environ=sandbox_env(sandbox, tmp_path)
    )
    runtime = await Runtime.open(settings, clock=FakeClock())
    client = await aiohttp_client(
        create_app(runtime, outbox_worker=False), headers=bearer(settings)
    )
    for _ in range(2):
        assert (await client.get("/api/v1/orders/SO-100001")).status == 200

    await client.close()

    [path] = directory.glob("worker-3-*.json")
    snapshot = Snapshot.from_json(path.read_bytes())
    served = [
        sample.value
        for family in snapshot.families
        for sample in family.samples
        if sample.name == "veneer_http_requests_total"
    ]
    assert served == [2.0]
