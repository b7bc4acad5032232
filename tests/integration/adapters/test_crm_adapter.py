"""The Odoo adapter over real sockets against the CRM sandbox, including its injected faults."""

from __future__ import annotations

import asyncio
import time
import xmlrpc.client
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.crm import OdooAdapter, OdooOptions
from adapters.errors import (
    AccessDenied,
    BackendTimeout,
    BackendUnavailable,
    ConnectFailed,
    NotFound,
    ProtocolError,
)
from adapters.http import AiohttpTransport, HttpReply
from sandbox.crm import ADMIN_API_KEY, DEFAULT_USERS, CrmSandbox, CrmUser
from sandbox.crm.users import Directory
from sandbox.dataset import build_world
from sandbox.faults import Fault, FaultSwitch

WORLD = build_world()
READ_TIMEOUT = 1.5


class CountingTransport:
    """The real transport, counting the XML-RPC methods posted through it."""

    def __init__(self, inner: AiohttpTransport) -> None:
        self.inner = inner
        self.methods: Counter[str] = Counter()

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float | None = None
    ) -> HttpReply:
        self.methods[str(xmlrpc.client.loads(body)[1])] += 1
        return await self.inner.post(url, body, headers, timeout=timeout)

    async def get(self, url: str, *, timeout: float | None = None) -> HttpReply:
        return await self.inner.get(url, timeout=timeout)

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
async def crm() -> AsyncIterator[CrmSandbox]:
    system = CrmSandbox(WORLD, FaultSwitch("crm"), port=0)
    await system.start()
    yield system
    await system.switch.set(Fault())  # release requests held by hang before stopping
    await system.stop()


def open_adapter(
    crm: CrmSandbox, username: str = "admin", secret: str = ADMIN_API_KEY
) -> tuple[OdooAdapter, CountingTransport]:
    context = AdapterContext(
        backend="crm",
        endpoint=crm.url,
        connect_timeout=1.0,
        read_timeout=READ_TIMEOUT,
        username=username,
        api_key=secret,
    )
    transport = CountingTransport(
        AiohttpTransport(backend="crm", connect_timeout=1.0, read_timeout=READ_TIMEOUT)
    )
    return OdooAdapter(context, OdooOptions(database="sandbox"), transport=transport), transport


@pytest.fixture
async def odoo(crm: CrmSandbox) -> AsyncIterator[tuple[OdooAdapter, CountingTransport]]:
    adapter, transport = open_adapter(crm)
    await adapter.start()
    yield adapter, transport
    await adapter.close()


async def test_ten_concurrent_first_calls_authenticate_once(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """Ten simultaneous first calls make one authenticate and ten execute_kw requests."""
    adapter, transport = odoo
    counts = await asyncio.gather(*(adapter.call("crm.lead.search_count", {}) for _ in range(10)))
    assert set(counts) == {len(WORLD.leads)}
    assert transport.methods == {"authenticate": 1, "execute_kw": 10}
    assert crm.switch.requests == 11


async def test_search_read_with_a_domain(odoo: tuple[OdooAdapter, CountingTransport]) -> None:
    """An and-domain returns exactly the world's Berlin companies with the fields asked for."""
    adapter, _ = odoo
    rows = await adapter.call(
        "res.partner.search_read",
        {"domain": [["is_company", "=", True], ["city", "=", "Berlin"]], "fields": ["name"]},
    )
    expected = {c.name for c in WORLD.customers if c.is_company and c.city == "Berlin"}
    assert expected and {row["name"] for row in rows} == expected
    assert all(set(row) == {"id", "name"} for row in rows)


async def test_read_keeps_many2one_pairs(odoo: tuple[OdooAdapter, CountingTransport]) -> None:
    """read returns the asked fields with many2one as [id, name] (or False) as Odoo does."""
    adapter, _ = odoo
    lead = next(lead for lead in WORLD.leads if lead.partner_id)
    [row] = await adapter.call("crm.lead.read", {"ids": [lead.id], "fields": ["name", "stage_id"]})
    assert row["name"] == lead.name and row["stage_id"] == list(lead.stage)


async def test_create_then_write(odoo: tuple[OdooAdapter, CountingTransport]) -> None:
    """create returns a new id; write on it returns True and the change reads back."""
    adapter, _ = odoo
    lead_id = await adapter.call(
        "crm.lead.create", {"vals": {"name": "Adapter test", "email_from": None}}
    )
    assert isinstance(lead_id, int)
    assert await adapter.call("crm.lead.write", {"ids": [lead_id], "vals": {"name": "Renamed"}})
    [row] = await adapter.call(
        "crm.lead.read", {"ids": [lead_id], "fields": ["name", "email_from"]}
    )
    assert row == {"id": lead_id, "name": "Renamed", "email_from": False}


async def test_write_on_a_missing_record_is_not_found(
    odoo: tuple[OdooAdapter, CountingTransport],
) -> None:
    """Odoo's fault 2 "Record does not exist" is NotFound."""
    adapter, _ = odoo
    with pytest.raises(NotFound) as caught:
        await adapter.call("crm.lead.write", {"ids": [987654], "vals": {"name": "x"}})
    assert caught.value.code == 2


async def test_read_only_user_writing_is_access_denied(crm: CrmSandbox) -> None:
    """The demo user may read but a write is fault 4: AccessDenied with code 4."""
    adapter, _ = open_adapter(crm, "demo", "demo")
    try:
        assert await adapter.call("crm.lead.search_count", {}) > 0
        with pytest.raises(AccessDenied) as caught:
            await adapter.call(
                "crm.lead.write", {"ids": [WORLD.leads[0].id], "vals": {"name": "x"}}
            )
        assert caught.value.code == 4
    finally:
        await adapter.close()


@pytest.mark.parametrize("deny_with_fault", [True, False], ids=["fault-3", "false"])
async def test_bad_password_is_access_denied(deny_with_fault: bool) -> None:
    """A wrong secret is AccessDenied whether authenticate answers fault 3 or False."""
    crm = CrmSandbox(WORLD, FaultSwitch("crm"), deny_with_fault=deny_with_fault)
    await crm.start()
    adapter, transport = open_adapter(crm, secret="not-the-key")
    try:
        with pytest.raises(AccessDenied) as caught:
            await adapter.call("res.partner.search", {})
        assert "not-the-key" not in str(caught.value)
        assert transport.methods == {"authenticate": 1}
    finally:
        await adapter.close()
        await crm.stop()


def replace_users(crm: CrmSandbox, *users: CrmUser) -> None:
    """Swap the sandbox's user directory, as an administrator recreating users would."""
    crm.services._directory = Directory(users)  # no public API for this in the sandbox


async def test_stale_uid_mid_session_logs_in_again_and_succeeds(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """When the admin is recreated under a new uid, fault 3 leads to one new login and success."""
    adapter, transport = odoo
    await adapter.call("res.partner.search_count", {})
    admin = DEFAULT_USERS[0]
    replace_users(crm, CrmUser(12, admin.login, admin.name, admin.secrets))
    assert await adapter.call("res.partner.search_count", {}) > 0
    assert transport.methods == {"authenticate": 2, "execute_kw": 3}


async def test_rotated_api_key_mid_session_is_access_denied(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """When the API key is revoked, the call logs in once more, is refused, and is AccessDenied."""
    adapter, transport = odoo
    await adapter.call("res.partner.search_count", {})
    admin = DEFAULT_USERS[0]
    replace_users(crm, CrmUser(admin.uid, admin.login, admin.name, ("new-key",)))
    with pytest.raises(AccessDenied):
        await adapter.call("res.partner.search_count", {})
    assert transport.methods == {"authenticate": 2, "execute_kw": 2}


async def test_down_is_connect_failed(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """A CRM that refuses connections is ConnectFailed, and health says so."""
    adapter, _ = odoo
    await crm.switch.set(Fault.parse("down"))
    with pytest.raises(ConnectFailed):
        await adapter.call("res.partner.search", {})
    assert not (await adapter.health()).ok


async def test_hang_is_backend_timeout_on_time(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """A hung CRM is BackendTimeout after the 1.5 s read timeout, not before, and before 1.9 s."""
    adapter, _ = odoo
    await adapter.call("res.partner.search_count", {})
    await crm.switch.set(Fault.parse("hang"))
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        await adapter.call("res.partner.search_count", {})
    assert READ_TIMEOUT <= time.monotonic() - started < 1.9


async def test_error_rate_is_backend_unavailable(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """nginx's 502 page in front of a crashed Odoo is BackendUnavailable."""
    adapter, _ = odoo
    await crm.switch.set(Fault.parse("error_rate:1"))
    with pytest.raises(BackendUnavailable) as caught:
        await adapter.call("res.partner.search", {})
    assert caught.value.code == 502


async def test_garbage_is_protocol_error(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """A reply cut off mid-record is ProtocolError."""
    adapter, _ = odoo
    await adapter.call("res.partner.search_count", {})
    await crm.switch.set(Fault.parse("garbage"))
    with pytest.raises(ProtocolError):
        await adapter.call("res.partner.search", {})


async def test_cancelled_call_leaves_no_connection_behind(
    crm: CrmSandbox, odoo: tuple[OdooAdapter, CountingTransport]
) -> None:
    """Cancelling a call held by a hung CRM frees its connection, and the next call works."""
    adapter, transport = odoo
    await adapter.call("res.partner.search_count", {})
    await crm.switch.set(Fault.parse("hang"))
    before = crm.switch.requests
    call = asyncio.create_task(adapter.call("res.partner.search_count", {}))
    for _ in range(100):
        if crm.switch.requests > before:
            break
        await asyncio.sleep(0.01)
    connector: Any = transport.inner._session.connector  # type: ignore[union-attr]
    assert len(connector._acquired) == 1
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert len(connector._acquired) == 0
    await crm.switch.set(Fault())
    assert await adapter.call("res.partner.search_count", {}) > 0


async def test_health_is_version(odoo: tuple[OdooAdapter, CountingTransport]) -> None:
    """health() reports the sandbox's Odoo 17 without logging in."""
    adapter, transport = odoo
    health = await adapter.health()
    assert health.ok and health.detail == "Odoo 17.0"
    assert transport.methods == {"version": 1}
