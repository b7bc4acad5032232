"""The operators' API: every breaker visible, steerable with a TTL, every change audited."""

from __future__ import annotations

import pytest
import structlog
from aiohttp.test_utils import TestClient

from facade.routes.handler import DECLINE_LOG_EVERY_S
from resilience import FakeClock
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from tests.integration.ops.conftest import admin


async def test_every_backend_has_a_breaker_on_show(ops: TestClient) -> None:
    """GET /ops/breakers lists one closed breaker per backend with its window and trial fields."""
    body = await (await ops.get("/ops/breakers", headers=admin())).json()
    by_name = {b["name"]: b for b in body["breakers"]}
    assert set(by_name) == {"erp", "crm", "wms"}
    assert by_name["erp"]["state"] == "closed"
    assert {
        "calls",
        "failures",
        "slow_calls",
        "failure_rate",
        "opened_at",
        "next_trial_at",
        "forced",
        "forced_until",
    } <= set(by_name["erp"])


async def test_forcing_open_rejects_calls_and_expires_with_its_ttl(
    ops: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """A forced-open breaker answers 503 without calling the ERP, and returns to auto when its TTL runs out."""
    forced = await ops.post(
        "/ops/breakers/erp",
        json={"state": "forced_open", "ttl_s": 60, "reason": "ERP patching"},
        headers=admin(),
    )
    assert forced.status == 200
    assert (await forced.json())["state"] == "forced_open"
    calls = sandbox.erp.switch.requests
    refused = await ops.get("/api/v1/orders?status=Open")
    assert refused.status == 503
    assert sandbox.erp.switch.requests == calls
    assert int(refused.headers["Retry-After"]) == 60
    clock.advance(61)
    after = await (await ops.get("/ops/breakers/erp", headers=admin())).json()
    assert after["state"] == "closed"
    assert (await ops.get("/api/v1/orders?status=Open")).status == 200


async def test_an_open_breaker_is_logged_once_a_second_not_per_request(
    ops: TestClient, clock: FakeClock
) -> None:
    """Requests declined by an open breaker log one warning per second, counting those held back."""
    await ops.post(
        "/ops/breakers/erp",
        json={"state": "forced_open", "reason": "ERP patching"},
        headers=admin(),
    )
    with structlog.testing.capture_logs() as logs:
        statuses = [(await ops.get("/api/v1/orders?status=Open")).status for _ in range(5)]
        clock.advance(DECLINE_LOG_EVERY_S)
        statuses.append((await ops.get("/api/v1/orders?status=Open")).status)
    assert statuses == [503] * 6
    declined = [e for e in logs if e["event"] == "backend call declined"]
    assert [(e["backend"], e["error"], e["held_back"]) for e in declined] == [
        ("erp", "BreakerOpen", 0),
        ("erp", "BreakerOpen", 4),
    ]


async def test_changes_need_the_admin_token(ops: TestClient) -> None:
    """Forcing a breaker without the ops admin token is refused with 401 and changes nothing."""
    refused = await ops.post("/ops/breakers/erp", json={"state": "forced_open", "reason": "x"})
    assert refused.status == 401
    assert (await refused.json())["code"] == "unauthenticated"
    assert (await (await ops.get("/ops/breakers/erp", headers=admin())).json())["state"] == "closed"


async def test_bad_force_requests_are_400(ops: TestClient) -> None:
    """An unknown state or a negative TTL is a validation error naming the field."""
    bad = await ops.post(
        "/ops/breakers/erp", json={"state": "sideways", "ttl_s": -1}, headers=admin()
    )
    assert bad.status == 400
    fields = {e["field"] for e in (await bad.json())["errors"]}
    assert fields == {"body.state", "body.ttl_s"}
    missing = await ops.post("/ops/breakers/nope", json={"state": "auto"}, headers=admin())
    assert missing.status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "forced_open", "ttl_s": 1e308}, "body.ttl_s"),  # was a 500: datetime overflow
        ({"state": "forced_open", "ttl_s": 367 * 86400}, "body.ttl_s"),
        ({"state": "forced_open", "reason": "a\x00b"}, "body.reason"),  # PostgreSQL cannot store it
        ({"state": "forced_open", "reason": 42}, "body.reason"),
    ],
)
async def test_a_forcing_out_of_bounds_is_a_400_and_changes_nothing(
    ops: TestClient, body: dict[str, object], field: str
) -> None:
    """A TTL past 366 days, or a reason that is not plain text, is refused; the breaker stays closed."""
    bad = await ops.post("/ops/breakers/erp", json=body, headers=admin())
    assert bad.status == 400
    assert [e["field"] for e in (await bad.json())["errors"]] == [field]
    shown = await (await ops.get("/ops/breakers/erp", headers=admin())).json()
    assert shown["state"] == "closed"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=ded", "query.status"),  # a typo must not read as "no dead letters"
        ("limit=abc", "query.limit"),  # was a 500
        ("limit=-5", "query.limit"),  # was no limit at all on SQLite
        ("limit=501", "query.limit"),
    ],
)
async def test_an_outbox_listing_with_a_bad_filter_is_a_400(
    ops: TestClient, query: str, field: str
) -> None:
    """Unknown statuses and limits outside 1 to 500 are refused, naming the parameter."""
    bad = await ops.get(f"/ops/outbox?{query}", headers=admin())
    assert bad.status == 400
    assert [e["field"] for e in (await bad.json())["errors"]] == [field]


async def test_changes_are_audited_with_who_why_before_and_after(ops: TestClient) -> None:
    """Each change leaves an audit row with actor, reason, before and after, newest first."""
    await ops.post(
        "/ops/breakers/crm",
        json={"state": "forced_closed", "reason": "false alarms"},
        headers=admin(),
    )
    await ops.post(
        "/ops/breakers/crm", json={"state": "auto", "reason": "resolved"}, headers=admin()
    )
    trail = (await (await ops.get("/ops/breakers/crm", headers=admin())).json())["audit"]
    assert [(e["action"], e["reason"], e["before"], e["after"]) for e in trail] == [
        ("breaker.auto", "resolved", "forced_closed", "closed"),
        ("breaker.forced_closed", "false alarms", "closed", "forced_closed"),
    ]
    assert [e["actor"] for e in trail] == ["admin", "admin"], trail
    assert all(e["at"].endswith("Z") for e in trail)


async def test_dead_letters_can_be_replayed_or_discarded(ops: TestClient, sandbox: Sandbox) -> None:
    """A queued write shows in /ops/outbox; discarding it is audited and ends it."""
    await sandbox.erp.switch.set(Fault.parse("down"))
    accepted = await (
        await ops.post(
            "/api/v1/orders",
            json={"customer_no": "C00040", "lines": [{"sku": "1000-GR", "quantity": 1}]},
        )
    ).json()
    listing = await (await ops.get("/ops/outbox?status=queued", headers=admin())).json()
    assert [e["id"] for e in listing["entries"]] == [accepted["id"]]
    assert listing["counts"]["queued"] == 1
    discarded = await ops.post(
        f"/ops/outbox/{accepted['id']}/discard", json={"reason": "duplicate"}, headers=admin()
    )
    assert discarded.status == 200
    assert (await discarded.json())["status"] == "discarded"
    again = await ops.post(f"/ops/outbox/{accepted['id']}/replay", json={}, headers=admin())
    assert again.status == 409
    audit = (await (await ops.get("/ops/audit", headers=admin())).json())["audit"]
    assert audit[0]["action"] == "outbox.discard"


async def test_readiness_lists_degraded_backends_without_failing(ops: TestClient) -> None:
    """/readyz stays 200 with an open breaker and names the degraded backend."""
    await ops.post(
        "/ops/breakers/wms", json={"state": "forced_open", "reason": "test"}, headers=admin()
    )
    ready = await ops.get("/readyz", headers=admin())
    body = await ready.json()
    assert ready.status == 200
    assert body["store"] == "ok"
    assert body["degraded_backends"] == ["wms"]
    assert (await ops.get("/healthz")).status == 200
