"""How SOAP faults and broken replies become the adapter error tree: the mapping table."""

from __future__ import annotations

import pytest
from zeep.exceptions import Fault

from adapters.erp import FaultRule, SoapAdapter, SoapOptions
from adapters.erp.faults import FaultPolicy, translate
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    ProtocolError,
)

from .conftest import SALES_NS, Wire, envelope, fault, make_adapter

STALE = (
    "Another user has modified the record for this Sales Header after you retrieved it from the "
    "database. Enter your changes again in the updated window, or start the interrupted activity "
    "again."
)
READ = ("SalesOrder.Read", {"No": "SO-100001"})


async def failure(adapter: SoapAdapter, operation: str = READ[0]) -> AdapterError:
    with pytest.raises(AdapterError) as info:
        await adapter.call(operation, READ[1])
    assert info.value.backend == "erp"
    assert info.value.operation == operation
    return info.value


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("Client", "Status must be equal to 'Open' in Sales Header.", BackendFault),
        ("Client", STALE, Conflict),
        ("Client", "The Sales Header does not exist. No.='SO-9'", NotFound),
        ("Client", "Invalid login: the user name or password is incorrect.", AccessDenied),
        ("Server", "An internal error occurred in the service tier.", BackendFault),
        ("Server", "Transaction was deadlocked; try again later.", BackendUnavailable),
    ],
)
async def test_fault_maps_by_rule_then_by_code(
    erp: SoapAdapter, wire: Wire, code: str, message: str, expected: type[AdapterError]
) -> None:
    """Faults match the built-in rules first, then Client/Server decide; the type is exact."""
    wire.reply(fault(code, message), status=500)
    error = await failure(erp)
    assert type(error) is expected
    assert error.code == f"s:{code}"
    assert error.message == message


async def test_server_fault_is_transient_when_configured(wire: Wire) -> None:
    """transient_server_faults makes soap:Server faults BackendUnavailable; Client stays permanent."""
    adapter = make_adapter(wire, transient_server_faults=True)
    await adapter.start()
    wire.reply(fault("Server", "The service tier is restarting."), status=500)
    assert type(await failure(adapter)) is BackendUnavailable
    wire.reply(fault("Client", "Status must be equal to 'Open'."), status=500)
    error = await failure(adapter)
    assert type(error) is BackendFault
    assert not error.transient


async def test_options_rules_come_before_the_defaults(wire: Wire) -> None:
    """A configured rule wins over a built-in one matching the same fault."""
    rule = FaultRule(match=r"Sales Header does not exist", error="invalid")
    adapter = make_adapter(wire, fault_rules=(rule,))
    await adapter.start()
    wire.reply(fault("Client", "The Sales Header does not exist."), status=500)
    assert type(await failure(adapter)) is InvalidRequest


async def test_default_rules_can_be_switched_off(wire: Wire) -> None:
    """Without the built-in rules a 'does not exist' fault is a plain BackendFault."""
    adapter = make_adapter(wire, default_fault_rules=False)
    await adapter.start()
    wire.reply(fault("Client", "The Sales Header does not exist."), status=500)
    assert type(await failure(adapter)) is BackendFault


async def test_rules_match_the_detail_but_never_keep_it(erp: SoapAdapter, wire: Wire) -> None:
    """A code only in the detail (NetSuite-style) selects the rule; the detail is not in the error."""
    detail = "<code>INVALID_LOGIN_CREDENTIALS</code><trace>at Nav.Service.Tier(secret)</trace>"
    wire.reply(fault("Server.userException", "Please try again.", detail), status=500)
    error = await failure(erp)
    assert type(error) is AccessDenied
    assert "secret" not in str(error)
    assert "Nav.Service" not in repr(error.__dict__)


async def test_long_faultstring_is_cut_to_200_characters(erp: SoapAdapter, wire: Wire) -> None:
    """Fault messages are bounded for logs."""
    wire.reply(fault("Client", "x" * 5000), status=500)
    assert len((await failure(erp)).message) == 200


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_statuses_are_unavailable_with_retry_after(
    erp: SoapAdapter, wire: Wire, status: int
) -> None:
    """IIS's 503 HTML page (and 502/504) is BackendUnavailable carrying Retry-After."""
    page = b"<HTML><BODY><h2>Service Unavailable</h2></BODY></HTML>"
    wire.reply(page, status=status, headers={"Content-Type": "text/html", "Retry-After": "7"})
    error = await failure(erp)
    assert type(error) is BackendUnavailable
    assert (error.code, error.retry_after) == (status, 7.0)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "reason"),
    [
        (
            200,
            envelope(f'<Read_Result xmlns="{SALES_NS}"><SalesOrder><No>SO')[:70],
            "text/xml",
            "not well-formed",
        ),
        (200, b"<html><body>Login</body></html>", "text/html", "HTML page"),
        (200, b'<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN"><html/>', "text/xml", "HTML"),
        (500, b"Internal Server Error", "text/plain", "non-XML body"),
        (500, envelope(f'<Read_Result xmlns="{SALES_NS}"/>'), "text/xml", "without a SOAP fault"),
        (200, b"", "text/xml", "empty body"),
        (200, b"<Envelope><Body/></Envelope>", "text/xml", "not a SOAP Envelope"),
        (
            200,
            b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>',
            "text/xml",
            "SOAP 1.2 envelope in reply to a SOAP 1.1 request",
        ),
        (200, envelope(""), "text/xml", "empty Body"),
        (404, b"<html>Not Found</html>", "text/html", "HTTP 404"),
    ],
)
async def test_replies_that_are_not_soap_are_protocol_errors(
    erp: SoapAdapter, wire: Wire, status: int, body: bytes, content_type: str, reason: str
) -> None:
    """Garbage, HTML, truncated XML and envelopes without a result are ProtocolError."""
    wire.reply(body, status=status, headers={"Content-Type": content_type})
    error = await failure(erp)
    assert type(error) is ProtocolError
    assert reason in error.message


@pytest.mark.parametrize("status", [401, 403])
async def test_http_auth_refusal_is_access_denied(
    erp: SoapAdapter, wire: Wire, status: int
) -> None:
    """NAV's IIS refusing the credentials (401/403 without SOAP) is AccessDenied."""
    wire.reply(b"", status=status, headers={})
    assert type(await failure(erp)) is AccessDenied


async def test_reply_off_schema_is_a_protocol_error_unless_lenient(wire: Wire) -> None:
    """strict refuses an element the WSDL does not declare; strict: false reads past it."""
    reply = envelope(
        f'<Read_Result xmlns="{SALES_NS}"><SalesOrder><No>SO-1</No><Bogus>1</Bogus>'
        "</SalesOrder></Read_Result>"
    )
    strict = make_adapter(wire)
    await strict.start()
    wire.reply(reply)
    error = await failure(strict)
    assert type(error) is ProtocolError
    assert "strict: false" in error.message
    lenient = make_adapter(wire, strict=False)
    await lenient.start()
    wire.reply(reply)
    assert (await lenient.call(*READ))["No"] == "SO-1"


@pytest.mark.parametrize(
    ("code", "transient", "expected"),
    [
        ("env:Sender", False, BackendFault),
        ("env:Receiver", False, BackendFault),
        ("env:Receiver", True, BackendUnavailable),
        ("soapenv:Server.userException", True, BackendUnavailable),
        ("soap:VersionMismatch", True, BackendFault),
    ],
)
def test_soap12_codes_follow_the_soap11_rule(
    code: str, transient: bool, expected: type[AdapterError]
) -> None:
    """Sender is Client and Receiver is Server, with or without subcodes after a dot."""
    policy = FaultPolicy.from_options(SoapOptions(wsdl="x.wsdl", transient_server_faults=transient))
    exc = Fault("Something went wrong.", code=code)
    error = translate(exc, stage="reply", backend="b", operation="op", policy=policy)
    assert type(error) is expected
    assert error.code == code


def test_fault_rule_with_a_bad_regex_is_refused_at_config_time() -> None:
    """A rule whose match does not compile fails when the options are bound."""
    with pytest.raises(ValueError, match="not a regex"):
        FaultRule(match="([unclosed", error="conflict")
