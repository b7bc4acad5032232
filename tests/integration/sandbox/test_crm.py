"""The CRM sandbox over real sockets, driven by the standard library's xmlrpc.client.ServerProxy."""

from __future__ import annotations

import asyncio
import re
import time
import xmlrpc.client
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from typing import Any
from xml.parsers.expat import ExpatError

import aiohttp
import pytest

from sandbox.crm import ADMIN_API_KEY, CrmSandbox
from sandbox.dataset import build_world
from sandbox.faults import Fault, FaultSwitch

WORLD = build_world()
DB = "sandbox"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class FakeClock:
    """A clock the test moves by hand, so write_date is predictable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class TimeoutTransport(xmlrpc.client.Transport):
    """xmlrpc.client's transport with a socket timeout, so a hung server cannot hang a test."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def crm(clock: FakeClock) -> AsyncIterator[CrmSandbox]:
    system = CrmSandbox(WORLD, FaultSwitch("crm"), clock=clock)
    await system.start()
    yield system
    await system.switch.set(Fault())  # release handlers held by hang before shutting down
    await system.stop()


async def call(
    system: CrmSandbox, service: str, method: str, *params: Any, client_timeout: float = 5.0
) -> Any:
    server = xmlrpc.client.ServerProxy(
        f"{system.url}/xmlrpc/2/{service}", transport=TimeoutTransport(client_timeout)
    )
    try:
        return await asyncio.to_thread(getattr(server, method), *params)
    finally:
        server("close")()


async def execute(
    system: CrmSandbox,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    uid: int = 2,
    password: str = "admin",
) -> Any:
    return await call(
        system, "object", "execute_kw", DB, uid, password, model, method, args, kwargs or {}
    )


async def fault_of(call_result: Any) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await call_result
    return caught.value


# -- common ------------------------------------------------------------------------------------


async def test_version_reports_odoo_17(crm: CrmSandbox) -> None:
    """version() answers with Odoo 17's version struct without any login."""
    version = await call(crm, "common", "version")
    assert version["server_version"] == "17.0"
    assert version["server_version_info"][:5] == [17, 0, 0, "final", 0]
    assert version["server_serie"] == "17.0"
    assert version["protocol_version"] == 1


async def test_authenticate_accepts_password_and_api_key(crm: CrmSandbox) -> None:
    """authenticate gives the uid for the password and for the API key, and login does too."""
    assert await call(crm, "common", "authenticate", DB, "admin", "admin", {}) == 2
    assert await call(crm, "common", "authenticate", DB, "admin", ADMIN_API_KEY, {}) == 2
    assert await call(crm, "common", "authenticate", DB, "demo", "demo", {}) == 6
    assert await call(crm, "common", "login", DB, "admin", "admin") == 2


async def test_bad_credentials_are_fault_3_by_default(crm: CrmSandbox) -> None:
    """A wrong password makes authenticate raise fault 3 Access Denied; login answers False."""
    fault = await fault_of(call(crm, "common", "authenticate", DB, "admin", "nope", {}))
    assert (fault.faultCode, fault.faultString) == (3, "Access Denied")
    assert await call(crm, "common", "login", DB, "admin", "nope") is False


async def test_bad_credentials_can_be_false_like_odoo_17() -> None:
    """With deny_with_fault=False, authenticate answers False for bad credentials."""
    system = CrmSandbox(WORLD, FaultSwitch("crm"), deny_with_fault=False)
    await system.start()
    try:
        assert await call(system, "common", "authenticate", DB, "admin", "nope", {}) is False
    finally:
        await system.stop()


async def test_unknown_database_is_fault_1_with_a_traceback(crm: CrmSandbox) -> None:
    """Naming a database that does not exist is fault 1 carrying a psycopg2 traceback."""
    fault = await fault_of(call(crm, "common", "authenticate", "prod", "admin", "admin", {}))
    assert fault.faultCode == 1
    assert fault.faultString.startswith("Traceback (most recent call last):")
    assert "psycopg2.OperationalError" in fault.faultString
    assert 'database "prod" does not exist' in fault.faultString


# -- object: credentials and dispatch ----------------------------------------------------------


async def test_every_object_call_checks_the_password(crm: CrmSandbox) -> None:
    """execute_kw with a wrong password or unknown uid is fault 3; the API key is accepted."""
    for uid, password in ((2, "wrong"), (99, "admin")):
        fault = await fault_of(
            execute(crm, "res.partner", "search", [[]], uid=uid, password=password)
        )
        assert fault.faultCode == 3
    assert await execute(crm, "res.partner", "search_count", [[]], password=ADMIN_API_KEY) > 0


async def test_models_and_methods_that_do_not_exist(crm: CrmSandbox) -> None:
    """Unknown model is fault 2, res.users is fault 4, unknown method fault 1, private fault 4."""
    unknown_model = await fault_of(execute(crm, "sale.orderx", "search", [[]]))
    assert (unknown_model.faultCode, unknown_model.faultString) == (
        2,
        "Object sale.orderx doesn't exist",
    )
    users = await fault_of(execute(crm, "res.users", "search_read", [[]]))
    assert users.faultCode == 4
    assert "(res.users)" in users.faultString
    method = await fault_of(execute(crm, "res.partner", "frobnicate", [[]]))
    assert method.faultCode == 1
    assert "AttributeError: The method 'frobnicate' does not exist" in method.faultString
    private = await fault_of(execute(crm, "res.partner", "_read", [[7]]))
    assert private.faultCode == 4


async def test_arguments_that_do_not_bind_are_fault_1(crm: CrmSandbox) -> None:
    """An unexpected keyword argument is the TypeError Odoo's Python would raise."""
    fault = await fault_of(execute(crm, "res.partner", "search", [[]], {"bogus": 1}))
    assert fault.faultCode == 1
    assert "TypeError: res.partner.search() got an unexpected keyword argument 'bogus'" in (
        fault.faultString
    )


async def test_unknown_field_in_a_domain_is_fault_1(crm: CrmSandbox) -> None:
    """A domain leaf on a field the model lacks is Odoo's ValueError, fault 1."""
    fault = await fault_of(execute(crm, "res.partner", "search", [[["shoe_size", "=", 42]]]))
    assert fault.faultCode == 1
    assert "ValueError: Invalid field res.partner.shoe_size" in fault.faultString


# -- object: reading ---------------------------------------------------------------------------


async def test_search_read_returns_only_matching_records(crm: CrmSandbox) -> None:
    """An and-domain selects exactly the world's Berlin companies, in Odoo's default order."""
    domain = [["is_company", "=", True], ["city", "=", "Berlin"]]
    records = await execute(
        crm, "res.partner", "search_read", [domain], {"fields": ["name", "city"]}
    )
    expected = sorted(
        (c for c in WORLD.customers if c.is_company and c.city == "Berlin"),
        key=lambda c: c.name.casefold(),
    )
    assert [r["id"] for r in records] == [c.id for c in expected]
    assert all(r["city"] == "Berlin" and set(r) == {"id", "name", "city"} for r in records)


async def test_or_domains_and_dotted_many2one_paths(crm: CrmSandbox) -> None:
    """'|' unions two leaves, and country_id.name follows the many2one to the country."""
    either = ["|", ["city", "=", "Berlin"], ["city", "=", "Hamburg"]]
    german = [["country_id.name", "=", "Germany"]]
    either_ids = await execute(crm, "res.partner", "search", [either])
    german_ids = await execute(crm, "res.partner", "search", [german])
    expected = {c.id for c in WORLD.customers if c.city in ("Berlin", "Hamburg")}
    assert set(either_ids) == expected
    assert set(german_ids) == {c.id for c in WORLD.customers if c.country_code == "DE"}


async def test_empty_fields_are_false_never_none(crm: CrmSandbox) -> None:
    """A partner without email, phone or VAT reads them as False, and comment is False too."""
    customer = next(c for c in WORLD.customers if c.email is None and c.phone is None)
    [record] = await execute(
        crm, "res.partner", "read", [[customer.id]], {"fields": ["email", "phone", "comment"]}
    )
    assert record == {"id": customer.id, "email": False, "phone": False, "comment": False}


async def test_many2one_fields_are_id_name_pairs(crm: CrmSandbox) -> None:
    """country_id, user_id and parent_id read as [id, display name]; people show 'Company, Name'."""
    person = next(c for c in WORLD.customers if c.parent_id and c.salesperson)
    company = next(c for c in WORLD.customers if c.id == person.parent_id)
    [record] = await execute(
        crm,
        "res.partner",
        "read",
        [[person.id], ["country_id", "user_id", "parent_id", "display_name", "child_ids"]],
    )
    country_id, country_name = record["country_id"]
    assert isinstance(country_id, int)
    assert country_name == person.country_name
    assert person.salesperson is not None
    assert record["user_id"] == list(person.salesperson)
    assert record["parent_id"] == [company.id, company.name]
    assert record["display_name"] == f"{company.name}, {person.name}"
    assert record["child_ids"] == []
    [parent] = await execute(crm, "res.partner", "read", [[company.id], ["child_ids"]])
    assert person.id in parent["child_ids"]


async def test_dates_are_zoneless_utc_strings(crm: CrmSandbox) -> None:
    """create_date is 'YYYY-MM-DD HH:MM:SS' in UTC; a lead's deadline is 'YYYY-MM-DD' or False."""
    customer = WORLD.customers[0]
    [record] = await execute(crm, "res.partner", "read", [[customer.id], ["create_date"]])
    assert DATETIME.match(record["create_date"])
    assert record["create_date"] == customer.created.strftime("%Y-%m-%d %H:%M:%S")
    leads = await execute(crm, "crm.lead", "search_read", [[]], {"fields": ["date_deadline"]})
    assert {type(lead["date_deadline"]) for lead in leads} == {str, bool}


async def test_read_leaves_out_missing_ids(crm: CrmSandbox) -> None:
    """read returns fewer rows than ids asked for when some do not exist (no fault)."""
    records = await execute(crm, "res.partner", "read", [[7, 999999, 8], ["name"]])
    assert [r["id"] for r in records] == [7, 8]


async def test_search_count_agrees_with_search(crm: CrmSandbox) -> None:
    """search_count gives the number of ids search returns for the same domain."""
    domain = [["customer_rank", ">", 0]]
    ids = await execute(crm, "res.partner", "search", [domain])
    assert await execute(crm, "res.partner", "search_count", [domain]) == len(ids) > 0
    assert len(ids) == len({o.customer_no for o in WORLD.orders})


async def test_fields_get_describes_the_model(crm: CrmSandbox) -> None:
    """fields_get lists every field with type and label, relation for relational fields."""
    fields = await execute(
        crm,
        "crm.lead",
        "fields_get",
        [],
        {"attributes": ["type", "string", "relation", "required"]},
    )
    assert fields["name"] == {"type": "char", "string": "Opportunity", "required": True}
    assert fields["stage_id"]["relation"] == "crm.stage"
    assert fields["expected_revenue"]["type"] == "monetary"
    everything = await execute(crm, "crm.lead", "fields_get", [])
    assert everything["type"]["selection"] == [["lead", "Lead"], ["opportunity", "Opportunity"]]


async def test_limit_offset_pages_are_consistent(crm: CrmSandbox) -> None:
    """Pages fetched with offset/limit concatenate to the full ordered result, without overlap."""
    order = "name asc, id desc"
    full = await execute(crm, "res.partner", "search", [[]], {"order": order})
    pages: list[int] = []
    for offset in range(0, len(full), 100):
        page = await execute(
            crm,
            "res.partner",
            "search_read",
            [[]],
            {"fields": ["name"], "offset": offset, "limit": 100, "order": order},
        )
        pages += [r["id"] for r in page]
    assert pages == full
    assert len(full) == len(WORLD.customers)
    names = await execute(crm, "res.partner", "read", [full[:50], ["name"]])
    assert [n["name"].casefold() for n in names] == sorted(n["name"].casefold() for n in names)


async def test_leads_default_to_priority_then_newest_first(crm: CrmSandbox) -> None:
    """Without an order, crm.lead sorts by priority desc, id desc, as Odoo's _order says."""
    leads = await execute(crm, "crm.lead", "search_read", [[]], {"fields": ["priority"]})
    keys = [(lead["priority"], lead["id"]) for lead in leads]
    assert keys == sorted(keys, reverse=True)
    assert len(leads) == len(WORLD.leads)


# -- object: writing ---------------------------------------------------------------------------


async def test_create_then_read(crm: CrmSandbox, clock: FakeClock) -> None:
    """create takes a dict (gives an id) or a list of dicts (gives ids); defaults are applied."""
    new_id = await execute(
        crm,
        "res.partner",
        "create",
        [{"name": "Zephyr Labs", "is_company": True, "country_id": 57}],
    )
    more = await execute(crm, "res.partner", "create", [[{"name": "A One"}, {"name": "B Two"}]])
    assert isinstance(new_id, int)
    assert len(more) == 2
    assert new_id not in more
    [record] = await execute(crm, "res.partner", "read", [[new_id]])
    assert record["name"] == "Zephyr Labs"
    assert record["country_id"] == [57, "Germany"]
    assert record["email"] is False
    assert record["active"] is True
    assert record["create_date"] == record["write_date"] == "2026-02-01 09:30:00"


async def test_create_without_a_name_is_fault_2(crm: CrmSandbox) -> None:
    """A missing required name is fault 2 with a human message, and nothing is created."""
    before = await execute(crm, "crm.lead", "search_count", [[]])
    fault = await fault_of(execute(crm, "crm.lead", "create", [[{"name": "ok"}, {"type": "lead"}]]))
    assert fault.faultCode == 2
    assert "a mandatory field is not set" in fault.faultString
    assert "Field: Opportunity (name)" in fault.faultString
    assert await execute(crm, "crm.lead", "search_count", [[]]) == before


async def test_write_then_read_moves_write_date(crm: CrmSandbox, clock: FakeClock) -> None:
    """write answers True, the new values read back, and write_date takes the current time."""
    clock.now += timedelta(hours=1)
    assert await execute(crm, "res.partner", "write", [[7], {"phone": "+49 30 1234", "user_id": 6}])
    [record] = await execute(crm, "res.partner", "read", [[7], ["phone", "user_id", "write_date"]])
    assert record["phone"] == "+49 30 1234"
    assert record["user_id"] == [6, "Marc Demo"]
    assert record["write_date"] == "2026-02-01 10:30:00"
    assert await execute(crm, "res.partner", "write", [[7], {"phone": False}])
    [cleared] = await execute(crm, "res.partner", "read", [[7], ["phone"]])
    assert cleared["phone"] is False


async def test_write_to_a_missing_record_is_fault_2(crm: CrmSandbox) -> None:
    """Writing a record that does not exist is fault 2 with Odoo's MissingError message."""
    fault = await fault_of(execute(crm, "res.partner", "write", [[9999], {"name": "x"}]))
    assert fault.faultCode == 2
    assert fault.faultString == (
        "Record does not exist or has been deleted.\n(Record: res.partner(9999,), User: 2)"
    )


async def test_write_with_a_bad_many2one_is_refused(crm: CrmSandbox) -> None:
    """A many2one takes an int id: an unknown id is fault 2, an [id, name] pair fault 1."""
    unknown = await fault_of(execute(crm, "res.partner", "write", [[7], {"country_id": 4242}]))
    assert unknown.faultCode == 2
    pair = await fault_of(execute(crm, "res.partner", "write", [[7], {"country_id": [57, "x"]}]))
    assert pair.faultCode == 1


async def test_demo_user_reads_but_cannot_write(crm: CrmSandbox) -> None:
    """The demo user may search and read but gets fault 4 on create, write and unlink."""
    assert await execute(crm, "res.partner", "search_count", [[]], uid=6, password="demo") > 0
    for method, args in (("create", [{"name": "x"}]), ("write", [[7], {"name": "x"}])):
        fault = await fault_of(execute(crm, "res.partner", method, args, uid=6, password="demo"))
        assert fault.faultCode == 4
        assert "You are not allowed to" in fault.faultString


async def test_unlink_deletes_and_archived_records_hide(crm: CrmSandbox) -> None:
    """unlink removes records; active=False hides them from search unless the domain asks."""
    assert await execute(crm, "crm.lead", "unlink", [[1]]) is True
    assert await execute(crm, "crm.lead", "read", [[1], ["name"]]) == []
    assert await execute(crm, "crm.lead", "write", [[2], {"active": False}])
    assert 2 not in await execute(crm, "crm.lead", "search", [[]])
    assert await execute(crm, "crm.lead", "search", [[["active", "=", False]]]) == [2]


async def test_stored_control_characters_are_stripped(crm: CrmSandbox) -> None:
    """Control characters (bar tab, LF, CR) never reach the wire; XML 1.0 cannot carry them."""
    crm.registry.models["res.partner"].write([7], {"name": "Ada\x0bm\x01s\tCo\n"}, 2)
    [record] = await execute(crm, "res.partner", "read", [[7], ["name"]])
    assert record["name"] == "Adams\tCo\n"


# -- wire --------------------------------------------------------------------------------------


async def test_legacy_routes_use_string_fault_codes(crm: CrmSandbox) -> None:
    """/xmlrpc/object answers the same faults with string codes (AccessDenied, warning -- ...)."""
    server = xmlrpc.client.ServerProxy(f"{crm.url}/xmlrpc/object")
    try:
        with pytest.raises(xmlrpc.client.Fault) as denied:
            await asyncio.to_thread(server.execute_kw, DB, 2, "x", "res.partner", "search", [[]])
        with pytest.raises(xmlrpc.client.Fault) as missing:
            await asyncio.to_thread(
                server.execute_kw, DB, 2, "admin", "res.partner", "write", [[9999], {"name": "x"}]
            )
    finally:
        server("close")()
    assert denied.value.faultCode == "AccessDenied"
    assert str(missing.value.faultCode).startswith("warning -- MissingError\n\n")


async def test_hostile_and_oversized_bodies_are_refused(crm: CrmSandbox) -> None:
    """A body with a DTD is fault 1 (never expanded); a body over 1 MiB is HTTP 413."""
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b"<methodCall><methodName>version</methodName><params/></methodCall>"
    )
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{crm.url}/xmlrpc/2/common", data=doctype) as response:
            body = await response.read()
        async with session.post(f"{crm.url}/xmlrpc/2/common", data=b"x" * (2 << 20)) as big:
            assert big.status == 413
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(body)
    assert caught.value.faultCode == 1
    assert "DTDForbidden" in caught.value.faultString


# -- fault modes -------------------------------------------------------------------------------


async def test_down_refuses_connections_until_reset(crm: CrmSandbox) -> None:
    """down makes the client see ConnectionRefusedError; reset serves again on the same port."""
    await crm.switch.set(Fault.parse("down"))
    with pytest.raises(ConnectionRefusedError):
        await call(crm, "common", "version")
    await crm.switch.set(Fault.parse("reset"))
    assert (await call(crm, "common", "version"))["server_version"] == "17.0"


async def test_hang_times_the_client_out_until_reset(crm: CrmSandbox) -> None:
    """hang accepts the call and never answers, so a 0.5 s client times out; reset answers."""
    await crm.switch.set(Fault.parse("hang"))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await call(crm, "common", "version", client_timeout=0.5)
    assert time.monotonic() - started >= 0.45
    await crm.switch.set(Fault.parse("reset"))
    assert (await call(crm, "common", "version"))["server_version"] == "17.0"


async def test_slow_delays_every_answer(crm: CrmSandbox) -> None:
    """slow:300 makes each call take at least 0.3 s; reset makes it quick again."""
    await crm.switch.set(Fault.parse("slow:300"))
    started = time.monotonic()
    await call(crm, "common", "version")
    assert time.monotonic() - started >= 0.3
    await crm.switch.set(Fault.parse("reset"))
    started = time.monotonic()
    await call(crm, "common", "version")
    assert time.monotonic() - started < 0.3


async def test_error_rate_answers_nginx_502(crm: CrmSandbox) -> None:
    """error_rate:1 gives HTTP 502 with an nginx text/html page: xmlrpc raises ProtocolError."""
    await crm.switch.set(Fault.parse("error_rate:1"))
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        await call(crm, "common", "version")
    assert caught.value.errcode == 502
    assert caught.value.headers["Content-Type"].startswith("text/html")
    assert await count_after_reset(crm) == len(WORLD.customers)


async def count_after_reset(crm: CrmSandbox) -> int:
    await crm.switch.set(Fault.parse("reset"))
    count: int = await execute(crm, "res.partner", "search_count", [[]])
    return count


async def test_garbage_is_unparseable_xml(crm: CrmSandbox) -> None:
    """garbage answers 200 text/xml with a cut-off methodResponse the client cannot parse."""
    await crm.switch.set(Fault.parse("garbage"))
    with pytest.raises(ExpatError):
        await call(crm, "common", "version")
    async with aiohttp.ClientSession() as session:
        body = xmlrpc.client.dumps((), "version").encode()
        async with session.post(f"{crm.url}/xmlrpc/2/common", data=body) as response:
            assert response.status == 200
            assert response.content_type == "text/xml"
    assert await count_after_reset(crm) == len(WORLD.customers)
