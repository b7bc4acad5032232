"""The live dashboard in a real headless Chromium: a failing ERP turns red, and an operator steers it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from sandbox.faults import Fault
from sandbox.runner import Sandbox
from tests.conftest import external
from tests.integration.ops.conftest import OPS_TOKEN, admin

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = shutil.which("chromium") or external("VENEER_TEST_CHROMIUM", "Debian's chromium")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


async def erp_state(page: Any) -> str:
    return str(await page.inner_text('[data-testid="state-erp"]'))


async def test_dashboard_shows_the_breaker_open_and_forces_it_closed(
    ops: TestClient, sandbox: Sandbox, browser: Any
) -> None:
    """With the ERP down and loaded until its breaker opens, the page shows it open; forcing closed works."""
    ARTIFACTS.mkdir(exist_ok=True)
    signed_in = f"sessionStorage.setItem('veneer-ops-token', '{OPS_TOKEN}')"  # the operator's token
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.add_init_script(signed_in)
    await page.goto(str(ops.make_url("/ops/")))
    await page.wait_for_selector('[data-testid="state-erp"]', timeout=15000)
    assert await erp_state(page) == "closed"

    await sandbox.erp.switch.set(Fault.parse("down"))
    for n in range(6):
        await ops.get(f"/api/v1/orders?status=Open&customer=C0001{n}")
    # Selector waits, not wait_for_function: the page's CSP forbids eval, and rightly so.
    await page.wait_for_selector('[data-testid="state-erp"]:text-is("open")', timeout=15000)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-erp-open.png"), full_page=True)
    assert "closed" in (await page.inner_text("#transitions"))

    answers = iter(
        ["", "maintenance window"]
    )  # the confirmation, then the reason for the audit trail

    async def on_dialog(dialog: Any) -> None:
        await dialog.accept(next(answers, ""))

    page.on("dialog", lambda dialog: asyncio.ensure_future(on_dialog(dialog)))
    # The tile may turn before the POST has answered (the live feed sees the new state first);
    # the audit record is written as part of the POST, so wait for its answer.
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/ops/breakers/erp"), timeout=15000
    ) as forced:
        await page.click('[data-action="forced_closed-erp"]')
    assert (await forced.value).status == 200
    await page.wait_for_selector(
        '[data-testid="state-erp"]:text-is("forced closed")', timeout=15000
    )
    breaker = await (await ops.get("/ops/breakers/erp", headers=admin())).json()
    assert breaker["state"] == "forced_closed"
    assert breaker["audit"][0]["reason"] == "maintenance window"

    phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    await phone.add_init_script(signed_in)
    await phone.goto(str(ops.make_url("/ops/")))
    await phone.wait_for_selector('[data-testid="state-erp"]', timeout=15000)
    tile_width = await phone.evaluate(
        "document.querySelector('.tile').getBoundingClientRect().width"
    )
    assert tile_width <= 390  # one column on a phone, nothing wider than the screen
    await phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
