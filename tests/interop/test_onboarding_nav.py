"""The onboarding guide's YAML, run as written, over the real Dynamics NAV CustomerList WSDL."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from facade.app import create_app
from facade.backends import open_backends
from facade.runtime import Runtime
from facade.settings import ConfigError, load_settings

pytestmark = pytest.mark.interop

Client = Callable[..., Awaitable[TestClient]]
SEEN = web.AppKey("seen", list[tuple[str, bytes]])
GUIDE_KEY = {"X-API-Key": "vk_onboarding_example_key_0001"}  # the guide's example key


def guide_yaml(repo_root: Path) -> str:
    text = (repo_root / "docs" / "onboarding.md").read_text()
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match, "docs/onboarding.md has no yaml block"
    return match.group(1)


@pytest.fixture
async def nav_server(samples_dir: Path) -> TestServer:
    """A canned NAV endpoint answering ReadMultiple with the recorded reply of a real NAV."""
    recorded = (
        samples_dir / "soap" / "dynamics-nav" / "page_readmultiple_response.xml"
    ).read_bytes()
    seen: list[tuple[str, bytes]] = []

    async def page(request: web.Request) -> web.Response:
        seen.append((request.headers.get("SOAPAction", ""), await request.read()))
        return web.Response(body=recorded, content_type="text/xml", charset="utf-8")

    app = web.Application()
    app.router.add_post("/CustomerList", page)
    app[SEEN] = seen
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


async def test_guide_config_serves_customers_from_the_nav_wsdl(
    repo_root: Path,
    samples_dir: Path,
    nav_server: TestServer,
    tmp_path: Path,
    aiohttp_client: Client,
) -> None:
    """The guide's YAML alone exposes NAV's ReadMultiple as GET /api/v1/nav/customers."""
    config = tmp_path / "gateway.yaml"
    config.write_text(guide_yaml(repo_root))
    env = {
        "NAV_URL": str(nav_server.make_url("/CustomerList")),
        "NAV_WSDL": str(samples_dir / "soap" / "dynamics-nav" / "page-CustomerList.xml"),
    }
    settings = load_settings(config, environ=env)
    client = await aiohttp_client(create_app(await Runtime.open(settings)))
    query = {"name": "Customer*", "limit": "2"}
    assert (await client.get("/api/v1/nav/customers", params=query)).status == 401

    response = await client.get("/api/v1/nav/customers", params=query, headers=GUIDE_KEY)

    assert response.status == 200, await response.text()
    assert await response.json() == [
        {"number": "123", "name": "Customer #1"},
        {"number": "456", "name": "Customer #2"},
    ]
    action, body = nav_server.app[SEEN][-1]
    assert "ReadMultiple" in action
    assert b"<ns0:Field>Name</ns0:Field>" in body or b">Name</" in body
    assert b">Customer*</" in body and b">2</" in body


async def test_guide_config_rejects_a_misspelt_operation(
    repo_root: Path, samples_dir: Path, tmp_path: Path
) -> None:
    """A typo in the operation is caught at load, against the WSDL, with a suggestion."""
    config = tmp_path / "gateway.yaml"
    config.write_text(
        guide_yaml(repo_root).replace("operation: ReadMultiple", "operation: ReadMultple")
    )
    env = {
        "NAV_URL": "http://127.0.0.1:9/CustomerList",
        "NAV_WSDL": str(samples_dir / "soap" / "dynamics-nav" / "page-CustomerList.xml"),
    }
    settings = load_settings(config, environ=env)
    with pytest.raises(
        ConfigError, match=r"no operation 'ReadMultple' \(did you mean 'ReadMultiple'\?\)"
    ):
        await open_backends(settings)
