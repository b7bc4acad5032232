"""A reload notices a WSDL that changed even when the configuration file is unchanged.

The gateway runs one SOAP backend over a copy of the sandbox's SalesOrder WSDL in the test's tmp
dir (nothing contacts the backend: WSDLs load from disk). Each test edits or rewrites the copy,
leaves ``gateway.yaml`` as it is, and reloads through ``POST /ops/reload``. The last tests serve
the WSDL by URL from a real server on 127.0.0.1 instead, and change what it serves.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.erp import SoapAdapter
from facade.app import RELOADER, RUNTIME, create_app
from facade.runtime import Runtime
from facade.settings import Settings, load_settings

Client = Callable[..., Awaitable[TestClient]]
ADMIN = {"Authorization": "Bearer wsdl-reload-admin-token"}
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
CONFIG = textwrap.dedent("""
    ops:
      admin_token: ${OPS_TOKEN}
    backends:
      erp:
        kind: soap
        endpoint: http://127.0.0.1:1/WS/CRONUS/Page
        options:
          services:
            SalesOrder: wsdl/nav-salesorder.wsdl
    routes:
      GET /api/v1/orders/{no}:
        backend: erp
        operation: SalesOrder.Read
        public: true
        request: {No: path.no}
        response: {number: result.No}
""")
#: A new operation, ReadByNo, taking and giving what Read does: in the port type and the binding.
NEW_PORT_OPERATION = """
    <operation name="ReadByNo">
      <input name="Read" message="tns:Read"/>
      <output name="Read_Result" message="tns:Read_Result"/>
    </operation>"""
NEW_BINDING_OPERATION = f"""
    <operation name="ReadByNo">
      <operation xmlns="{SOAP}" soapAction="urn:microsoft-dynamics-schemas/page/salesorder:ReadByNo" style="document"/>
      <input name="Read"><body xmlns="{SOAP}" use="literal"/></input>
      <output name="Read_Result"><body xmlns="{SOAP}" use="literal"/></output>
    </operation>"""


def with_read_by_no(wsdl: str) -> str:
    port = '<portType name="SalesOrder_Port">'
    binding = f'<binding xmlns="{SOAP}" transport="http://schemas.xmlsoap.org/soap/http"/>'
    assert wsdl.count(port) == 1 and wsdl.count(binding) == 1, "the sandbox WSDL changed shape"
    wsdl = wsdl.replace(port, port + NEW_PORT_OPERATION)
    return wsdl.replace(binding, binding + NEW_BINDING_OPERATION)


def add_read_by_no(wsdl: Path) -> None:
    wsdl.write_text(with_read_by_no(wsdl.read_text()))


def rewrite_unchanged(wsdl: Path) -> None:
    """Write the file again with the same bytes (a new modification time, the same content)."""
    wsdl.write_bytes(wsdl.read_bytes())


def load(path: Path) -> Settings:
    return load_settings(path, environ={"OPS_TOKEN": "wsdl-reload-admin-token"})


@pytest.fixture
def wsdl(tmp_path: Path, repo_root: Path) -> Path:
    copy = tmp_path / "wsdl" / "nav-salesorder.wsdl"
    copy.parent.mkdir()
    shutil.copyfile(repo_root / "config" / "wsdl" / "nav-salesorder.wsdl", copy)
    return copy


@pytest.fixture
async def client(tmp_path: Path, wsdl: Path, aiohttp_client: Client) -> TestClient:
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG)
    return await serve(config, aiohttp_client)


async def serve(config: Path, aiohttp_client: Client) -> TestClient:
    """The gateway on ``config``, reloading from that file."""
    app = create_app(await Runtime.open(load(config)))
    app[RELOADER].load = load
    return await aiohttp_client(app)


def erp(client: TestClient) -> SoapAdapter:
    adapter = client.app[RUNTIME].backends.adapters["erp"]
    assert isinstance(adapter, SoapAdapter)
    return adapter


async def reload(client: TestClient) -> dict[str, Any]:
    response = await client.post("/ops/reload", json={}, headers=ADMIN)
    outcome: dict[str, Any] = await response.json()
    assert response.status == 200, outcome
    return outcome


async def force_open(client: TestClient) -> None:
    forced = await client.post(
        "/ops/breakers/erp", json={"state": "forced_open", "reason": "maintenance"}, headers=ADMIN
    )
    assert forced.status == 200


async def breaker_state(client: TestClient) -> str:
    return str((await (await client.get("/ops/breakers/erp", headers=ADMIN)).json())["state"])


async def test_a_wsdl_edited_on_disk_gets_a_new_adapter_with_its_new_operations(
    client: TestClient, wsdl: Path
) -> None:
    """With gateway.yaml untouched, an operation added to the WSDL is callable after a reload."""
    before = erp(client)
    assert "SalesOrder.ReadByNo" not in (before.operations() or {})
    add_read_by_no(wsdl)

    outcome = await reload(client)

    assert outcome["changes"]["backends"] == {"added": [], "removed": [], "changed": ["erp"]}
    after = erp(client)
    assert after is not before
    assert {"SalesOrder.Read", "SalesOrder.ReadByNo"} <= set(after.operations() or {})


async def test_a_new_adapter_for_an_edited_wsdl_keeps_the_breaker_and_policy(
    client: TestClient, wsdl: Path
) -> None:
    """The system behind the backend is the same: a breaker forced open stays forced, the policy stays."""
    before, policy = erp(client), client.app[RUNTIME].policies["erp"]
    await force_open(client)
    add_read_by_no(wsdl)

    await reload(client)

    assert erp(client) is not before
    assert await breaker_state(client) == "forced_open"
    assert client.app[RUNTIME].policies["erp"] is policy
    assert (await client.get("/api/v1/orders/SO-1")).status == 503


async def test_a_wsdl_rewritten_with_the_same_bytes_keeps_adapter_policy_and_breaker(
    client: TestClient, wsdl: Path
) -> None:
    """Content, not the file's timestamp, decides: the same bytes written again change nothing."""
    before, policy = erp(client), client.app[RUNTIME].policies["erp"]
    await force_open(client)
    rewrite_unchanged(wsdl)

    outcome = await reload(client)

    assert outcome["changes"]["backends"]["changed"] == []
    assert erp(client) is before
    assert client.app[RUNTIME].policies["erp"] is policy
    assert await breaker_state(client) == "forced_open"


# -- a WSDL given by URL: fetched again on reload -----------------------------------------------


class WsdlServer:
    """Serves one WSDL document at /SalesOrder?wsdl; ``text`` may change, ``up`` may go False."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.up = True
        self.fetches = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if not self.up:
            return web.Response(status=503)
        return web.Response(text=self.text, content_type="text/xml")


@pytest.fixture
async def wsdl_server(repo_root: Path, aiohttp_server: Any) -> tuple[WsdlServer, str]:
    served = WsdlServer((repo_root / "config" / "wsdl" / "nav-salesorder.wsdl").read_text())
    app = web.Application()
    app.router.add_get("/SalesOrder", served.handle)
    server = await aiohttp_server(app)
    return served, f"http://127.0.0.1:{server.port}/SalesOrder?wsdl"


@pytest.fixture
async def url_client(
    tmp_path: Path, wsdl_server: tuple[WsdlServer, str], aiohttp_client: Client
) -> TestClient:
    _, url = wsdl_server
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG.replace("wsdl/nav-salesorder.wsdl", url))
    return await serve(config, aiohttp_client)


async def test_a_wsdl_served_by_url_is_fetched_again_and_its_change_gets_a_new_adapter(
    url_client: TestClient, wsdl_server: tuple[WsdlServer, str]
) -> None:
    """The backend added an operation to the WSDL it serves: a reload picks it up, breaker kept."""
    served, _ = wsdl_server
    before = erp(url_client)
    assert "SalesOrder.ReadByNo" not in (before.operations() or {})
    await force_open(url_client)
    served.text = with_read_by_no(served.text)

    outcome = await reload(url_client)

    assert outcome["changes"]["backends"]["changed"] == ["erp"]
    assert "SalesOrder.ReadByNo" in (erp(url_client).operations() or {})
    assert await breaker_state(url_client) == "forced_open"


async def test_a_wsdl_url_serving_the_same_or_nothing_keeps_the_adapter(
    url_client: TestClient, wsdl_server: tuple[WsdlServer, str]
) -> None:
    """The same bytes again, or no answer at reload time, leave the loaded description serving."""
    served, _ = wsdl_server
    before = erp(url_client)
    fetched = served.fetches

    assert (await reload(url_client))["changes"]["backends"]["changed"] == []
    served.up = False
    assert (await reload(url_client))["changes"]["backends"]["changed"] == []

    assert erp(url_client) is before
    assert served.fetches == fetched + 2  # each reload really asked
