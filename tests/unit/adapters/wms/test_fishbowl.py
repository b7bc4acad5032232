"""FishbowlAdapter over recorded replies: login, transparent re-login, status errors, dialects."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections import deque
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendUnavailable,
    InvalidRequest,
    NotFound,
    ProtocolError,
    SessionExpired,
)
from adapters.wms import FishbowlAdapter, FishbowlOptions
from adapters.wms.transport import RecordedTransport

PASSWORD = "s3cret-pw"


class FakeFishbowl:
    """Answers FbiJson requests like a Fishbowl server: tickets, and scripted status codes."""

    def __init__(self) -> None:
        self.live: set[str] = set()
        self.ended: set[str] = set()
        self.logins = 0
        self.forced: deque[int] = deque()  # statuses answered to the next non-login messages
        self.login_status = 1000
        self.messages: list[tuple[str, str, dict[str, Any]]] = []  # (name, key, params)

    def expire_all(self) -> None:
        self.ended |= self.live
        self.live.clear()

    async def __call__(self, payload: bytes) -> bytes:
        await asyncio.sleep(0)  # let concurrent callers interleave as on a real socket
        root = json.loads(payload)["FbiJson"]
        key = root["Ticket"]["Key"]
        ((name, params),) = root["FbiMsgsRq"].items()
        self.messages.append((name, key, params))
        reply_name = name[:-2] + "Rs"
        if name == "LoginRq":
            if self.login_status != 1000:
                return self._reply(key, reply_name, self.login_status, {})
            self.logins += 1
            key = f"K{self.logins}"
            self.live.add(key)
            return self._reply(key, reply_name, 1000, {"ServerVersion": "2018.10"})
        if self.forced:
            return self._reply(key, reply_name, self.forced.popleft(), {})
        if key not in self.live:
            return self._reply(key, reply_name, 1164 if key in self.ended else 1131, {})
        if name == "PartGetRq" and params.get("Number") == "NOPE":
            return self._reply(key, reply_name, 2000, {})
        return self._reply(key, reply_name, 1000, {"Echo": params})

    @staticmethod
    def _reply(key: str, name: str, status: int, body: dict[str, Any]) -> bytes:
        message = {"statusCode": status, **body}
        envelope: dict[str, Any] = {"statusCode": status, name: message}
        if status != 1000:
            envelope["statusMessage"] = message["statusMessage"] = f"status {status}"
        return json.dumps({"FbiJson": {"Ticket": {"Key": key}, "FbiMsgsRs": envelope}}).encode()


def context(**overrides: Any) -> AdapterContext:
    values: dict[str, Any] = {
        "backend": "wms",
        "endpoint": "tcp://127.0.0.1:28192",
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "username": "admin",
        "password": PASSWORD,
    }
    values.update(overrides)
    return AdapterContext(**values)


@pytest.fixture
def server() -> FakeFishbowl:
    return FakeFishbowl()


@pytest.fixture
def wire(server: FakeFishbowl) -> RecordedTransport:
    return RecordedTransport(server)


@pytest.fixture
def adapter(wire: RecordedTransport) -> FishbowlAdapter:
    return FishbowlAdapter(context(), FishbowlOptions(app_id=54321), transport=wire)


async def test_first_call_logs_in_then_sends_the_message_with_the_ticket(
    adapter: FishbowlAdapter, server: FakeFishbowl
) -> None:
    """LoginRq carries the app identity and MD5 password; the call carries the issued key."""
    result = await adapter.call("InvQty", {"PartNum": "1000-GR"})
    assert result == {"Echo": {"PartNum": "1000-GR"}}
    (login_name, login_key, login), (name, key, _) = server.messages
    assert (login_name, login_key, name, key) == ("LoginRq", "", "InvQtyRq", "K1")
    digest = base64.b64encode(hashlib.md5(PASSWORD.encode()).digest()).decode()
    assert login == {
        "IAID": 54321,
        "IAName": "veneer",
        "IADescription": "veneer integration gateway",
        "UserName": "admin",
        "UserPassword": digest,
    }


async def test_later_calls_reuse_the_ticket(adapter: FishbowlAdapter, server: FakeFishbowl) -> None:
    """One login serves every following call."""
    for _ in range(3):
        await adapter.call("PartGet", {"Number": "A"})
    assert server.logins == 1
    assert adapter.ticket.logins == 1


async def test_an_ended_session_is_renewed_and_the_call_resent_once(
    adapter: FishbowlAdapter, server: FakeFishbowl
) -> None:
    """On 1164 the adapter logs in again and the same call succeeds with the new ticket."""
    await adapter.call("PartGet", {"Number": "A"})
    server.expire_all()
    assert await adapter.call("PartGet", {"Number": "B"}) == {"Echo": {"Number": "B"}}
    assert server.logins == 2
    assert [(n, k) for n, k, _ in server.messages[-3:]] == [
        ("PartGetRq", "K1"),
        ("LoginRq", ""),
        ("PartGetRq", "K2"),
    ]


async def test_a_burst_of_expired_calls_costs_one_login(
    adapter: FishbowlAdapter, server: FakeFishbowl
) -> None:
    """Twenty concurrent calls that all hit 1164 share a single re-login."""
    await adapter.call("PartGet", {"Number": "A"})
    server.expire_all()
    results = await asyncio.gather(
        *(adapter.call("PartGet", {"Number": str(i)}) for i in range(20))
    )
    assert results == [{"Echo": {"Number": str(i)}} for i in range(20)]
    assert server.logins == 2


@pytest.mark.parametrize(
    ("codes", "expected"),
    [((1164, 1164), SessionExpired), ((1163, 1010), SessionExpired), ((1131, 1131), AccessDenied)],
)
async def test_resend_happens_only_once(
    adapter: FishbowlAdapter,
    server: FakeFishbowl,
    codes: tuple[int, int],
    expected: type[AdapterError],
) -> None:
    """A session refused again after the re-login is reported, not retried forever."""
    await adapter.call("PartGet", {"Number": "A"})
    server.forced.extend(codes)
    with pytest.raises(expected) as caught:
        await adapter.call("PartGet", {"Number": "B"})
    assert caught.value.code == codes[1]
    assert server.logins == 2


async def test_bad_credentials_are_access_denied_without_the_password(
    adapter: FishbowlAdapter, server: FakeFishbowl
) -> None:
    """1120 at login is AccessDenied, and the message never carries the password."""
    server.login_status = 1120
    with pytest.raises(AccessDenied) as caught:
        await adapter.call("InvQty", {"PartNum": "X"})
    assert caught.value.code == 1120
    assert caught.value.operation == "InvQty"
    assert PASSWORD not in str(caught.value)


async def test_missing_credentials_fail_before_anything_is_sent(wire: RecordedTransport) -> None:
    """Without a username and password there is no point in connecting."""
    adapter = FishbowlAdapter(
        context(username=None, password=None), FishbowlOptions(app_id=1), transport=wire
    )
    with pytest.raises(AccessDenied, match="username and password"):
        await adapter.call("InvQty", {"PartNum": "X"})
    assert wire.requests == []


@pytest.mark.parametrize("operation", ["Nope", "Login", "Logout", "InvQtyRq"])
async def test_unknown_and_session_operations_are_invalid(
    adapter: FishbowlAdapter, wire: RecordedTransport, operation: str
) -> None:
    """Only catalogued messages can be called; the session messages belong to the adapter."""
    with pytest.raises(InvalidRequest):
        await adapter.call(operation, {})
    assert wire.requests == []


async def test_part_not_found_is_not_found(adapter: FishbowlAdapter) -> None:
    """Status 2000 from the message surfaces as NotFound with its code."""
    with pytest.raises(NotFound) as caught:
        await adapter.call("PartGet", {"Number": "NOPE"})
    assert caught.value.code == 2000


async def test_server_shutdown_is_transient_and_not_a_relogin(
    adapter: FishbowlAdapter, server: FakeFishbowl
) -> None:
    """1009 is BackendUnavailable right away: logging in again would not help."""
    await adapter.call("PartGet", {"Number": "A"})
    server.forced.append(1009)
    with pytest.raises(BackendUnavailable) as caught:
        await adapter.call("PartGet", {"Number": "B"})
    assert caught.value.transient
    assert server.logins == 1


@pytest.mark.parametrize(
    "reply",
    [
        b'{"FbiJson":{"Ticket":{"Key":"\xff\xfe\x00","UserID":',
        b'{"FbiJson":{"Ticket":{"Key":"k"},"FbiMsgsRs":{}}}',
        b'{"Other":{}}',
        b'{"FbiJson":{"Ticket":{"Key":"k"},"FbiMsgsRs":{"statusCode":"abc"}}}',
    ],
)
async def test_replies_that_are_not_the_protocol_are_protocol_errors(reply: bytes) -> None:
    """Truncated JSON, missing envelope or status, or a non-numeric status: ProtocolError."""

    async def answer(payload: bytes) -> bytes:
        return reply

    adapter = FishbowlAdapter(
        context(), FishbowlOptions(app_id=1), transport=RecordedTransport(answer)
    )
    with pytest.raises(ProtocolError):
        await adapter.call("InvQty", {"PartNum": "X"})


async def test_plain_password_encoding_sends_the_password_as_is(
    wire: RecordedTransport, server: FakeFishbowl
) -> None:
    """password_encoding=plain is for servers that want clear text."""
    adapter = FishbowlAdapter(
        context(), FishbowlOptions(app_id=1, password_encoding="plain"), transport=wire
    )
    await adapter.call("InvQty", {"PartNum": "X"})
    assert server.messages[0][2]["UserPassword"] == PASSWORD


async def test_xml_dialect_sends_fbixml_with_a_bare_doctype_and_reads_string_codes() -> None:
    """FbiXml requests carry <!DOCTYPE FbiXml>; attribute status codes are read as numbers."""
    sent: list[bytes] = []

    async def answer(payload: bytes) -> bytes:
        sent.append(payload)
        body = (
            "<LoginRs statusCode='1000'/>"
            if b"<LoginRq>" in payload
            else (
                "<InvQtyRs statusCode='1000'><InvQty><QtyOnHand>4</QtyOnHand></InvQty></InvQtyRs>"
            )
        )
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE FbiXml>\n<FbiXml><Ticket>"
            f"<Key>XK</Key></Ticket><FbiMsgsRs statusCode='1000'>{body}</FbiMsgsRs></FbiXml>"
        ).encode()

    adapter = FishbowlAdapter(
        context(), FishbowlOptions(app_id=7, dialect="xml"), transport=RecordedTransport(answer)
    )
    assert await adapter.call("InvQty", {"PartNum": "1000-GR"}) == {"InvQty": {"QtyOnHand": "4"}}
    assert sent[0].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE FbiXml>\n')
    assert b"<IAID>7</IAID>" in sent[0]
    assert b"<Ticket><Key>XK</Key></Ticket>" in sent[1]
    assert b"<InvQtyRq><PartNum>1000-GR</PartNum></InvQtyRq>" in sent[1]


async def test_close_logs_out_the_session_and_closes_the_transport(
    adapter: FishbowlAdapter, server: FakeFishbowl, wire: RecordedTransport
) -> None:
    """Shutdown frees the login seat with LogoutRq and releases the connections."""
    await adapter.call("InvQty", {"PartNum": "X"})
    await adapter.close()
    assert server.messages[-1][:2] == ("LogoutRq", "K1")
    assert wire.closed


async def test_health_logs_in_once_and_reports_refusals_without_raising(
    adapter: FishbowlAdapter, server: FakeFishbowl, wire: RecordedTransport
) -> None:
    """Health probes the port and logs in if needed; a refused login is unhealthy, not raised."""
    assert (await adapter.health()).ok
    assert (await adapter.health()).ok
    assert (wire.probes, server.logins) == (2, 1)
    adapter.ticket.clear()
    server.login_status = 1120
    health = await adapter.health()
    assert not health.ok
    assert "1120" in health.detail


def test_operations_are_the_catalogue_plus_configured_extras(wire: RecordedTransport) -> None:
    """Known messages carry read_only flags; extra ones are exposed as configured."""
    options = FishbowlOptions(
        app_id=1, extra_operations=("UOM", "VoidSO"), extra_read_only=("UOM",)
    )
    ops = FishbowlAdapter(context(), options, transport=wire).operations()
    assert {name for name, op in ops.items() if op.read_only} == {
        "InvQty",
        "PartGet",
        "GetShipment",
        "GetShipList",
        "ExecuteQuery",
        "PickQuery",
        "UOM",
    }
    assert not ops["Ship"].read_only
    assert not ops["VoidSO"].read_only
    assert ops["InvQty"].params[0] == "PartNum"


@pytest.mark.parametrize(
    "kwargs",
    [{"extra_operations": ("InvQtyRq",)}, {"extra_read_only": ("UOM",)}],
)
def test_invalid_extra_operations_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    """An extra name with the Rq suffix, or a read-only name not listed, is refused at load."""
    with pytest.raises(ValueError, match="extra_"):
        FishbowlOptions(app_id=1, **kwargs)


def test_an_endpoint_that_is_not_tcp_is_refused() -> None:
    """The endpoint must be tcp://host[:port]; Fishbowl's port 28192 is the default."""
    with pytest.raises(ValueError, match="tcp://host:port"):
        FishbowlAdapter(context(endpoint="http://x:1/"), FishbowlOptions(app_id=1))
    adapter = FishbowlAdapter(context(endpoint="tcp://wms.local"), FishbowlOptions(app_id=1))
    assert adapter._address == ("wms.local", 28192)
