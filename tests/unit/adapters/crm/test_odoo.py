"""The Odoo adapter through its transport seam: what it sends, when it logs in, what it raises."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from typing import Any

import pytest

from adapters.crm import OdooAdapter, OdooOptions
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendTimeout,
    BackendUnavailable,
    InvalidRequest,
    ProtocolError,
)
from adapters.http import HttpReply, RecordedTransport
from tests.unit.adapters.crm.recorded import (
    API_KEY,
    BAD_GATEWAY,
    COMMON,
    FAULT_1_TRACEBACK,
    OBJECT,
    PARTNER_7,
    Script,
    context,
    fault,
    result,
)

VERSION = {"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""]}


def adapter(script: Script, **options: Any) -> OdooAdapter:
    return OdooAdapter(
        context(**options.pop("context", {})),
        OdooOptions(database="sandbox", **options),
        transport=script.transport,
    )


def logged_in(execute: Any = None) -> Script:
    return Script({"authenticate": [result(2)], "execute_kw": [execute or result([])]})


DOMAIN = [["is_company", "=", True], ["city", "=", "Berlin"]]


@pytest.mark.parametrize(
    ("operation", "params", "args", "kwargs"),
    [
        (
            "res.partner.search_read",
            {"domain": DOMAIN, "fields": ["name"], "offset": 5, "limit": 10, "order": "name"},
            [DOMAIN],
            {"fields": ["name"], "offset": 5, "limit": 10, "order": "name"},
        ),
        ("res.partner.search_read", {}, [[]], {}),
        ("res.partner.read", {"ids": [7, 8], "fields": ["name"]}, [[7, 8]], {"fields": ["name"]}),
        ("res.partner.search", {"domain": DOMAIN, "limit": 3}, [DOMAIN], {"limit": 3}),
        ("crm.lead.search_count", {"domain": DOMAIN}, [DOMAIN], {}),
        (
            "crm.lead.create",
            {"vals": {"name": "X", "phone": None}},
            [{"name": "X", "phone": False}],
            {},
        ),
        ("crm.lead.write", {"ids": [5], "vals": {"name": "Y"}}, [[5], {"name": "Y"}], {}),
        ("crm.lead.unlink", {"ids": [5]}, [[5]], {}),
        ("crm.lead.fields_get", {"attributes": ["type"]}, [], {"attributes": ["type"]}),
        ("res.partner.name_search", {"name": "Coho"}, ["Coho", [], "ilike", 100], {}),
        ("crm.lead.action_set_won", {"args": [[5]], "kwargs": {"x": 1}}, [[5]], {"x": 1}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_named_params_are_marshalled_into_execute_kw(
    operation: str, params: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Each operation is one execute_kw(db, uid, key, model, method, args, kwargs) on /object."""
    script = logged_in()
    await adapter(script).call(operation, params)
    model, method = operation.rsplit(".", 1)
    url, name, sent = script.calls[-1]
    assert (url, name) == (OBJECT, "execute_kw")
    assert sent == ("sandbox", 2, API_KEY, model, method, args, kwargs)


async def test_results_are_odoo_values_as_they_come() -> None:
    """A recorded search_read comes back with its many2one pair and False unchanged."""
    script = logged_in(HttpReply(200, PARTNER_7))
    rows = await adapter(script).call("res.partner.search_read", {"domain": [["id", "=", 7]]})
    assert rows[0]["country_id"] == [57, "Germany"] and rows[0]["phone"] is False


async def test_start_contacts_nothing() -> None:
    """start() sends no request, so the gateway boots while the CRM is down."""
    script = Script()
    await adapter(script).start()
    assert script.calls == []


async def test_start_refuses_missing_credentials() -> None:
    """A backend without a username or secret fails at start, naming what is missing."""
    lacking = adapter(Script(), context={"api_key": None, "password": None})
    with pytest.raises(ValueError, match="credentials"):
        await lacking.start()


async def test_authenticate_uses_the_api_key_before_the_password() -> None:
    """authenticate(db, login, secret, {}) goes to /common with the API key when both are set."""
    script = logged_in()
    await adapter(script, context={"password": "admin"}).call("res.partner.search", {})
    assert script.calls[0] == (COMMON, "authenticate", ("sandbox", "admin", API_KEY, {}))
    script = logged_in()
    await adapter(script, context={"api_key": None, "password": "admin"}).call(
        "crm.lead.search", {}
    )
    assert script.last("authenticate")[2] == "admin"
    assert script.last("execute_kw")[2] == "admin"


async def test_ten_concurrent_first_calls_log_in_once() -> None:
    """Ten calls that all need a uid at once share one authenticate request."""
    script = logged_in()
    script.gates["authenticate"] = gate = asyncio.Event()
    crm = adapter(script)
    calls = [asyncio.create_task(crm.call("res.partner.search", {})) for _ in range(10)]
    await script.until("authenticate", 1)
    gate.set()
    await asyncio.gather(*calls)
    assert (script.count("authenticate"), script.count("execute_kw")) == (1, 10)


@pytest.mark.parametrize(
    "refusal",
    [result(False), fault(3, "Access Denied"), result("2")],
    ids=["false", "fault-3", "junk"],
)
async def test_bad_credentials_are_access_denied(refusal: HttpReply) -> None:
    """False, fault 3 or a non-integer uid from authenticate is AccessDenied, and not cached."""
    script = Script({"authenticate": [refusal]})
    crm = adapter(script)
    for _ in range(2):
        with pytest.raises(AccessDenied) as caught:
            await crm.call("res.partner.search", {})
        assert caught.value.operation == "res.partner.search"
        assert API_KEY not in str(caught.value)
    assert script.count("authenticate") == 2 and script.count("execute_kw") == 0


async def test_fault_3_mid_session_logs_in_again_once_and_resends() -> None:
    """A uid refused mid-session is replaced by one new login, and the call succeeds."""
    script = Script(
        {
            "authenticate": [result(2), result(9)],
            "execute_kw": [lambda p: result([1]) if p[1] == 9 else fault(3, "Access Denied")],
        }
    )
    assert await adapter(script).call("res.partner.search", {}) == [1]
    assert (script.count("authenticate"), script.count("execute_kw")) == (2, 2)


async def test_fault_3_after_the_new_login_is_access_denied() -> None:
    """When the resend is refused too, the call is AccessDenied: no third attempt."""
    script = Script({"authenticate": [result(2)], "execute_kw": [fault(3, "Access Denied")]})
    with pytest.raises(AccessDenied):
        await adapter(script).call("res.partner.search", {})
    assert (script.count("authenticate"), script.count("execute_kw")) == (2, 2)


async def test_ten_calls_refused_at_once_cause_one_new_login() -> None:
    """Concurrent calls refused with the same stale uid share a single re-login."""
    accepted = {2}
    script = Script(
        {
            "authenticate": [result(2), result(9)],
            "execute_kw": [lambda p: result([]) if p[1] in accepted else fault(3, "Access Denied")],
        }
    )
    crm = adapter(script)
    await crm.call("res.partner.search", {})  # logs in as uid 2
    accepted = {9}  # the user was recreated: uid 2 is stale
    script.gates["execute_kw"] = gate = asyncio.Event()
    calls = [asyncio.create_task(crm.call("res.partner.search", {})) for _ in range(10)]
    await script.until("execute_kw", 11)
    gate.set()
    await asyncio.gather(*calls)
    assert (script.count("authenticate"), script.count("execute_kw")) == (2, 21)


async def test_a_late_refusal_does_not_discard_the_new_login() -> None:
    """A refusal of the old uid arriving after the re-login reuses the new uid, no third login."""
    accepted, held, logins = {2}, list[asyncio.Event](), iter([2, 9])

    async def odoo(verb: str, url: str, body: bytes, headers: Any) -> HttpReply:
        params, method = xmlrpc.client.loads(body)
        if method == "authenticate":
            return result(next(logins))
        if params[1] == 2 and accepted == {9}:
            held.append(event := asyncio.Event())
            await event.wait()
        return result([]) if params[1] in accepted else fault(3, "Access Denied")

    transport = RecordedTransport(odoo)
    crm = OdooAdapter(context(), OdooOptions(database="sandbox"), transport=transport)
    await crm.call("res.partner.search", {})  # uid 2
    accepted = {9}
    first = asyncio.create_task(crm.call("res.partner.search", {}))
    second = asyncio.create_task(crm.call("res.partner.search", {}))
    for _ in range(1000):
        if len(held) == 2:
            break
        await asyncio.sleep(0)
    assert len(held) == 2
    held[0].set()
    await first  # refused, logs in again as uid 9, resent
    held[1].set()
    await second  # refused for the old uid: resent with uid 9 as it is
    methods = [xmlrpc.client.loads(body)[1] for _, _, body, _ in transport.requests]
    assert methods.count("authenticate") == 2


async def test_a_cancelled_caller_does_not_cancel_the_shared_login() -> None:
    """Cancelling one of two callers waiting on the login leaves the other's login running."""
    script = logged_in()
    script.gates["authenticate"] = gate = asyncio.Event()
    crm = adapter(script)
    first = asyncio.create_task(crm.call("res.partner.search", {}))
    second = asyncio.create_task(crm.call("res.partner.search", {}))
    await script.until("authenticate", 1)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.set()
    assert await second == []
    assert script.count("authenticate") == 1


async def test_close_stops_a_login_in_flight() -> None:
    """close() cancels a pending login and its waiters see cancellation, not a hang."""
    script = logged_in()
    script.gates["authenticate"] = asyncio.Event()
    crm = adapter(script)
    call = asyncio.create_task(crm.call("res.partner.search", {}))
    await script.until("authenticate", 1)
    await crm.close()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_a_spent_deadline_is_backend_timeout() -> None:
    """A call whose timeout has already run out is BackendTimeout before anything is sent."""
    script = logged_in()
    with pytest.raises(BackendTimeout):
        await adapter(script).call("res.partner.search", {}, timeout=0)
    assert script.calls == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (BAD_GATEWAY, BackendUnavailable),
        (
            HttpReply(200, b"<?xml version='1.0'?><methodResponse><params><param><val"),
            ProtocolError,
        ),
        (HttpReply(200, FAULT_1_TRACEBACK), BackendFault),
        (fault(2, "Object res.partnr doesn't exist"), InvalidRequest),
    ],
    ids=["502", "garbage", "fault-1", "unknown-model"],
)
async def test_failures_of_execute_kw(reply: HttpReply, error: type) -> None:
    """nginx's 502, a truncated reply and faults raise their error, never a traceback."""
    script = logged_in(reply)
    with pytest.raises(AdapterError) as caught:
        await adapter(script).call("res.partner.search", {})
    assert type(caught.value) is error
    assert "Traceback" not in str(caught.value)
    assert (caught.value.backend, caught.value.operation) == ("crm", "res.partner.search")


async def test_invalid_params_send_nothing() -> None:
    """A call whose params cannot be right is InvalidRequest before any request."""
    script = logged_in()
    with pytest.raises(InvalidRequest):
        await adapter(script).call("crm.lead.write", {"ids": [1]})
    assert script.calls == []


async def test_health_asks_version_without_logging_in() -> None:
    """health() is version() on /common: ok with the server version, no authenticate."""
    script = Script({"version": [result(VERSION)]})
    health = await adapter(script).health()
    assert health.ok and health.detail == "Odoo 17.0"
    assert [(url, name) for url, name, _ in script.calls] == [(COMMON, "version")]


async def test_health_reports_an_unavailable_server() -> None:
    """A 502 from the proxy makes health not ok, with the reason."""
    health = await adapter(Script({"version": [BAD_GATEWAY]})).health()
    assert not health.ok and "502" in health.detail


def test_operations_are_models_times_standard_methods() -> None:
    """operations() lists each model's standard methods with read-only flags, plus extras."""
    crm = adapter(Script(), extra_operations=("crm.lead.action_set_won",))
    ops = crm.operations()
    assert ops is not None
    assert ops["res.partner.search_read"].read_only
    assert "limit" in ops["res.partner.search_read"].params
    assert not ops["crm.lead.write"].read_only
    assert not ops["crm.lead.action_set_won"].read_only
    assert len(ops) == 2 * 9 + 1
    assert adapter(Script(), models=()).operations() is None


def test_options_are_validated() -> None:
    """An empty database or a malformed extra operation is refused when options are built."""
    with pytest.raises(ValueError, match="database"):
        OdooOptions(database="")
    with pytest.raises(ValueError, match="extra_operations"):
        OdooOptions(database="x", extra_operations=("nodot",))
