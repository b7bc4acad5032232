"""Request templates read the caller under ``auth.``: a legacy system can record who asked.

The backend is the standard library's XML-RPC server in a thread, echoing the params it got.
"""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from facade.app import create_app
from facade.runtime import Runtime
from facade.settings import load_settings
from tests.support.credentials import TEST_API_KEY, TEST_API_KEY_HASH
from tests.support.xmlrpc_server import stdlib_xmlrpc_server

Client = Callable[..., Awaitable[TestClient]]

CONFIG = """
auth:
  api_keys:
    clients:
      warehouse-app: {hash: "HASH", scopes: [notes:write, notes:read]}
rate_limit: {enabled: false}
backends:
  notes:
    kind: xmlrpc
    endpoint: "URL"
    retry: {attempts: 1}
routes:
  POST /api/v1/notes:
    backend: notes
    operation: notes.create
    body: {type: object, required: [text], properties: {text: {type: string}}}
    request:
      text: body.text
      author: auth.subject
      via: auth.kind
      granted: auth.scopes
    response: {echo: result}
  GET /api/v1/notes/{id}:
    backend: notes
    operation: notes.create
    params: {id: {in: path, type: integer}}
    request: {id: path.id, author: auth.subject}
    response: {echo: result}
    include:
      again: {route: "GET /api/v1/notes/{id}/copy", params: {id: result.echo.id}}
  GET /api/v1/notes/{id}/copy:
    backend: notes
    operation: notes.create
    params: {id: {in: path, type: integer}}
    request: {id: path.id, author: auth.subject}
    response: {echo: result}
"""


def create(params: dict[str, Any]) -> dict[str, Any]:
    return params


@pytest.fixture
def notes_server() -> Iterator[str]:
    with stdlib_xmlrpc_server({"notes.create": create}) as url:
        yield url


@pytest.fixture
async def gateway(notes_server: str, tmp_path: Path, aiohttp_client: Client) -> TestClient:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        textwrap.dedent(CONFIG).replace("HASH", TEST_API_KEY_HASH).replace("URL", notes_server)
    )
    settings = load_settings(config, environ={"VENEER_STORE_URL": f"sqlite:///{tmp_path}/v.db"})
    app = create_app(await Runtime.open(settings), outbox_worker=False)
    return await aiohttp_client(app, headers={"X-API-Key": TEST_API_KEY})


async def test_a_write_passes_the_callers_subject_kind_and_scopes_to_the_backend(
    gateway: TestClient,
) -> None:
    """The backend receives who asked (the API key's client name), how, and with what scopes."""
    answer = await gateway.post("/api/v1/notes", json={"text": "pallet 7 is damaged"})
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["echo"] == {
        "text": "pallet 7 is damaged",
        "author": "warehouse-app",
        "via": "api_key",
        "granted": ["notes:read", "notes:write"],
    }


async def test_an_include_is_fetched_for_the_same_caller(gateway: TestClient) -> None:
    """A route included in another's answer sees the caller too, not an anonymous one."""
    answer = await gateway.get("/api/v1/notes/3?include=again")
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert body["echo"] == {"id": 3, "author": "warehouse-app"}
    assert body["again"]["echo"] == {"id": 3, "author": "warehouse-app"}
