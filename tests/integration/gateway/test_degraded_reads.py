"""Degraded reads against the real ERP: cached answers keep clients working, and say how old they are."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from facade.routes.caching import REFRESH_PAUSE_S
from resilience import FakeClock
from sandbox.faults import Fault
from sandbox.runner import Sandbox

ORDER = (
    "/api/v1/orders/SO-100001"  # cached: ttl 15 s, stale-while-revalidate 30 s, stale-if-error 1 h
)


async def test_a_fresh_answer_comes_from_the_cache(
    timed_gateway: TestClient, sandbox: Sandbox
) -> None:
    """Within ttl the second GET is answered from the cache without calling the ERP."""
    first = await timed_gateway.get(ORDER)
    assert first.headers["Cache-Status"] == "veneer; fwd=miss; stored"
    calls = sandbox.erp.switch.requests
    second = await timed_gateway.get(ORDER)
    assert second.status == 200
    assert sandbox.erp.switch.requests == calls
    assert second.headers["Cache-Status"].startswith("veneer; hit; ttl=")
    assert second.headers["Age"] == "0"
    assert "Veneer-Stale" not in second.headers
    assert await second.read() == await first.read()


async def test_backend_down_serves_the_last_answer_marked_stale(
    timed_gateway: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """With the ERP down and the answer past its ttl, clients get it with Age, Cache-Status and Veneer-Stale."""
    good = await (await timed_gateway.get(ORDER)).read()
    await sandbox.erp.switch.set(Fault.parse("down"))
    clock.advance(120)
    stale = await timed_gateway.get(ORDER)
    assert stale.status == 200
    assert await stale.read() == good
    assert stale.headers["Veneer-Stale"] == "true"
    assert stale.headers["Age"] == "120"
    assert stale.headers["Cache-Status"].startswith("veneer; fwd=stale; fwd-status=503")
    assert 'detail="stale-if-error"' in stale.headers["Cache-Status"]


async def test_past_the_stale_window_the_answer_is_503_with_retry_after(
    timed_gateway: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """Once stale-if-error has run out, a down ERP gives 503 backend_unavailable with Retry-After."""
    await timed_gateway.get(ORDER)
    await sandbox.erp.switch.set(Fault.parse("down"))
    clock.advance(3600 + 16)
    response = await timed_gateway.get(ORDER)
    assert response.status == 503
    assert (await response.json())["code"] == "backend_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


async def test_stale_while_revalidate_answers_at_once_and_refreshes_once(
    timed_gateway: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """Just past ttl, answers are served stale immediately while one background call refreshes the entry."""
    await timed_gateway.get(ORDER)
    clock.advance(20)
    calls = sandbox.erp.switch.requests
    stale = await asyncio.gather(*(timed_gateway.get(ORDER) for _ in range(5)))
    assert all(r.headers["Veneer-Stale"] == "true" for r in stale)
    assert all('detail="stale-while-revalidate"' in r.headers["Cache-Status"] for r in stale)
    for _ in range(50):  # the refresh runs in the background
        if sandbox.erp.switch.requests > calls:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert sandbox.erp.switch.requests == calls + 1
    fresh = await timed_gateway.get(ORDER)
    assert "Veneer-Stale" not in fresh.headers


async def test_a_failed_refresh_pauses_refreshes_of_that_answer(
    timed_gateway: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """After a background refresh fails, further stale answers start no refresh until the pause is over."""
    await timed_gateway.get(ORDER)
    clock.advance(20)
    await sandbox.erp.switch.set(Fault.parse("error_rate:1"))
    calls = sandbox.erp.switch.requests
    assert (await timed_gateway.get(ORDER)).headers["Veneer-Stale"] == "true"
    for _ in range(50):  # the failing refresh runs in the background
        if sandbox.erp.switch.requests > calls:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    failed_refresh = sandbox.erp.switch.requests
    assert failed_refresh > calls
    for _ in range(10):
        assert (await timed_gateway.get(ORDER)).headers["Veneer-Stale"] == "true"
    await asyncio.sleep(0.05)
    assert sandbox.erp.switch.requests == failed_refresh
    await sandbox.erp.switch.set(Fault.parse("none"))
    clock.advance(REFRESH_PAUSE_S)
    await timed_gateway.get(ORDER)
    for _ in range(50):
        if sandbox.erp.switch.requests > failed_refresh:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert sandbox.erp.switch.requests == failed_refresh + 1
    assert "Veneer-Stale" not in (await timed_gateway.get(ORDER)).headers


async def test_a_hundred_cold_identical_gets_make_one_backend_call(
    timed_gateway: TestClient, sandbox: Sandbox
) -> None:
    """100 concurrent identical GETs on a cold cache reach the ERP once, and all get the same answer."""
    calls = sandbox.erp.switch.requests
    answers = await asyncio.gather(
        *(timed_gateway.get("/api/v1/orders/SO-100002") for _ in range(100))
    )
    assert {a.status for a in answers} == {200}
    assert sandbox.erp.switch.requests == calls + 1
    assert len({await a.read() for a in answers}) == 1


async def test_errors_are_never_cached(timed_gateway: TestClient, sandbox: Sandbox) -> None:
    """A failed GET is not remembered: once the ERP is back, the next GET asks it and succeeds."""
    await sandbox.erp.switch.set(Fault.parse("error_rate:1"))
    failed = await timed_gateway.get("/api/v1/orders/SO-100003")
    assert failed.status == 503
    await sandbox.erp.switch.set(Fault.parse("reset"))
    ok = await timed_gateway.get("/api/v1/orders/SO-100003")
    assert ok.status == 200
    assert ok.headers["Cache-Status"] == "veneer; fwd=miss; stored"


async def test_a_write_invalidates_the_cached_read(timed_gateway: TestClient) -> None:
    """After a PATCH through the gateway, the GET of the same order shows the change at once."""
    before = await (await timed_gateway.get("/api/v1/orders/SO-100004")).json()
    await timed_gateway.patch("/api/v1/orders/SO-100004", json={"external_document_no": "PO-NEW"})
    after = await (await timed_gateway.get("/api/v1/orders/SO-100004")).json()
    assert before["external_document_no"] != "PO-NEW"
    assert after["external_document_no"] == "PO-NEW"


async def test_partial_aggregates_are_not_cached(
    timed_gateway: TestClient, sandbox: Sandbox, clock: FakeClock
) -> None:
    """An aggregated order with an unavailable part is not stored, so recovery shows once the WMS is back."""
    url = f"{ORDER}?include=stock"
    await sandbox.wms.switch.set(Fault.parse("down"))
    partial = await timed_gateway.get(url)
    assert (await partial.json())["stock"] is None
    assert partial.headers["Cache-Status"] == "veneer; fwd=miss"  # not stored
    await sandbox.wms.switch.set(Fault.parse("reset"))
    clock.advance(11)  # the WMS breaker opened on those failures; its open period is 10 s
    trial = await timed_gateway.get("/api/v1/products/1000-GR/stock")  # one trial closes it
    assert trial.status == 200
    whole = await (await timed_gateway.get(url)).json()
    assert whole["stock"] is not None
    assert "unavailable" not in whole
