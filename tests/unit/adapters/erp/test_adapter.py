"""The adapter's configuration surface: forms, addresses, operations, credentials, health."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from adapters.base import AdapterContext, Operation
from adapters.erp import SoapAdapter, SoapOptions
from adapters.erp.operations import is_read_only
from adapters.errors import ConnectFailed
from adapters.http import HttpReply

from .conftest import CONFIG_DIR, ENDPOINT, SALES_NS, Wire, envelope, make_adapter
from .test_loader import TNS, write, wsdl

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
EMPTY_READ = envelope(f'<Read_Result xmlns="{SALES_NS}"/>')


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either wsdl"),
        ({"wsdl": "a.wsdl", "services": {"A": "a.wsdl"}}, "either wsdl"),
        ({"services": {"A": "a.wsdl"}, "address": "x"}, "inside each entry"),
        ({"services": {"Sales Order": "a.wsdl"}}, "not a service name"),
    ],
)
def test_options_refuse_ambiguous_forms(kwargs: dict[str, object], message: str) -> None:
    """A block that is neither the single nor the multi form fails when bound."""
    with pytest.raises(ValueError, match=message):
        SoapOptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "read_only"),
    [
        ("Read", True),
        ("ReadMultiple", True),
        ("get_entry_list", True),
        ("queryMore", True),
        ("describeSObject", True),
        ("GetQuote", True),
        ("Retrieve", True),
        ("Create", False),
        ("Reader", False),
        ("getaway", False),
        ("salesOrderList", False),
        ("Z_STORE_TEMPLATE_GET_DATA", False),
    ],
)
def test_read_only_heuristic_needs_a_leading_reading_verb(name: str, read_only: bool) -> None:
    """Names starting with Read/Get/List/Find/Search/Query/Describe/Retrieve as a word are safe."""
    assert is_read_only(name) is read_only


async def test_operations_describe_params_and_safety(erp: SoapAdapter) -> None:
    """operations() lists 'Service.Op' names with their input elements and read-only flag."""
    ops = erp.operations() or {}
    assert ops["SalesOrder.ReadMultiple"] == Operation(
        "SalesOrder.ReadMultiple",
        params=("filter", "bookmarkKey", "setSize"),
        read_only=True,
        doc=ops["SalesOrder.ReadMultiple"].doc,
    )
    assert "SalesOrder_Filter" in ops["SalesOrder.ReadMultiple"].doc
    assert not ops["SalesOrder.Update"].read_only
    assert sorted(ops) == [
        "Item.Read",
        "Item.ReadMultiple",
        "SalesOrder.Create",
        "SalesOrder.Delete",
        "SalesOrder.Read",
        "SalesOrder.ReadMultiple",
        "SalesOrder.Update",
    ]


async def test_read_only_operations_option_adds_to_the_heuristic(wire: Wire) -> None:
    """read_only_operations marks operations the name heuristic cannot recognise."""
    adapter = make_adapter(wire, read_only_operations=("SalesOrder.Delete",))
    await adapter.start()
    assert (adapter.operations() or {})["SalesOrder.Delete"].read_only


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (None, f"{ENDPOINT}/SalesOrder"),
        ("Orders/V2", f"{ENDPOINT}/Orders/V2"),
        ("/Orders", f"{ENDPOINT}/Orders"),
        ("https://nav.corp/WS/Page/SalesOrder", "https://nav.corp/WS/Page/SalesOrder"),
        ("wsdl", "http://localhost:8081/WS/CRONUS/Page/SalesOrder"),
    ],
)
async def test_multi_form_address_rule(wire: Wire, address: str | None, expected: str) -> None:
    """A service posts to endpoint/<key> by default, a relative or absolute address, or the WSDL's."""
    spec = {"wsdl": "wsdl/nav-salesorder.wsdl", "address": address}
    adapter = make_adapter(wire, services={"SalesOrder": spec_of(spec)})
    await adapter.start()
    wire.reply(EMPTY_READ)
    await adapter.call("SalesOrder.Read", {"No": "1"})
    assert wire.sent[1] == expected


async def test_single_form_names_operations_as_the_wsdl_and_posts_to_the_endpoint(
    wire: Wire,
) -> None:
    """options: {wsdl: ...} exposes "Read", sent to the endpoint itself."""
    adapter = make_adapter(wire, wsdl="wsdl/nav-salesorder.wsdl")
    await adapter.start()
    assert "Read" in (adapter.operations() or {})
    wire.reply(EMPTY_READ)
    await adapter.call("Read", {"No": "1"})
    assert wire.sent[1] == ENDPOINT


def spec_of(spec: dict[str, object]) -> object:
    from adapters.erp import ServiceOptions

    return ServiceOptions(**spec)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wsse", "digest"), [("username_token", False), ("username_token_digest", True)]
)
async def test_ws_security_username_token_is_added(wire: Wire, wsse: str, digest: bool) -> None:
    """wsse puts a UsernameToken with the backend's credentials in the SOAP header."""
    adapter = make_adapter(wire, wsse=wsse)
    await adapter.start()
    wire.reply(EMPTY_READ)
    await adapter.call("SalesOrder.Read", {"No": "1"})
    root = etree.fromstring(wire.sent[2])
    token = root.find(f".//{{{WSSE}}}UsernameToken")
    assert token is not None
    assert token.findtext(f"{{{WSSE}}}Username") == "WEBUSER"
    password = token.find(f"{{{WSSE}}}Password")
    assert password is not None
    assert ("PasswordDigest" in password.get("Type", "")) is digest
    assert (password.text == "s3cret-Pa55") is not digest


async def test_http_basic_auth_header(wire: Wire) -> None:
    """http_auth: basic sends the credentials as an Authorization header."""
    adapter = make_adapter(wire, http_auth="basic")
    await adapter.start()
    wire.reply(EMPTY_READ)
    await adapter.call("SalesOrder.Read", {"No": "1"})
    assert wire.sent[3]["Authorization"] == "Basic V0VCVVNFUjpzM2NyZXQtUGE1NQ=="


async def test_credentials_are_required_for_wsse(wire: Wire) -> None:
    """wsse without a username fails at start, not on the first call."""
    context = AdapterContext(
        backend="erp",
        endpoint=ENDPOINT,
        connect_timeout=1,
        read_timeout=1,
        base_dir=str(CONFIG_DIR),
    )
    options = SoapOptions(wsdl="wsdl/nav-item.wsdl", wsse="username_token")
    with pytest.raises(ValueError, match="credentials"):
        await SoapAdapter(context, options, transport=wire.transport).start()


SOAP12_BINDING = """
  <binding name="Binding12" type="tns:Port">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="GetQuote"><soap12:operation soapAction="urn:GetQuote"/>
      <input><soap12:body use="literal"/></input><output><soap12:body use="literal"/></output>
    </operation>
  </binding>
  <service name="Quotes12"><port name="QuotesPort12" binding="tns:Binding12">
    <soap12:address location="http://dev-box.corp:8080/quotes12"/></port></service>
</definitions>"""


def dual_wsdl(tmp_path: Path) -> Path:
    """The quote WSDL with both a SOAP 1.1 and a SOAP 1.2 binding and a simple output."""
    text = wsdl().replace('type="qt:Quote"', 'type="xsd:decimal"')
    text = text.replace("</definitions>", SOAP12_BINDING).replace(
        "<definitions ", '<definitions xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" ', 1
    )
    return write(tmp_path / "dual.wsdl", text)


@pytest.mark.parametrize(
    ("version", "content_type", "namespace"),
    [
        ("auto", "text/xml; charset=utf-8", "http://schemas.xmlsoap.org/soap/envelope/"),
        ("1.2", "application/soap+xml", "http://www.w3.org/2003/05/soap-envelope"),
    ],
)
async def test_soap_version_picks_the_binding(
    tmp_path: Path, wire: Wire, version: str, content_type: str, namespace: str
) -> None:
    """auto prefers the SOAP 1.1 port; soap_version: "1.2" picks the 1.2 one and its envelope."""
    dual_wsdl(tmp_path)
    context = AdapterContext(
        backend="q",
        endpoint="http://q/svc",
        connect_timeout=1,
        read_timeout=1,
        base_dir=str(tmp_path),
    )
    options = SoapOptions(wsdl="dual.wsdl", soap_version=version)  # type: ignore[arg-type]
    adapter = SoapAdapter(context, options, transport=wire.transport)
    await adapter.start()
    wire.reply(
        f'<e:Envelope xmlns:e="{namespace}"><e:Body><q:GetQuoteResponse xmlns:q="{TNS}">'
        "<q:quote>12.50</q:quote></q:GetQuoteResponse></e:Body></e:Envelope>".encode()
    )
    assert str(await adapter.call("GetQuote", {"symbol": "NAV"})) == "12.50"
    assert wire.sent[3]["Content-Type"].startswith(content_type)
    assert etree.fromstring(wire.sent[2]).tag == f"{{{namespace}}}Envelope"


async def test_health_is_any_http_answer_of_the_service_address(
    erp: SoapAdapter, wire: Wire
) -> None:
    """health() GETs the first service's address: a 405 is reachable, a 503 is not."""
    wire.reply(b"", status=405)
    health = await erp.health()
    assert health.ok
    assert wire.sent[:2] == ("GET", f"{ENDPOINT}/SalesOrder")
    wire.reply(b"", status=503)
    assert not (await erp.health()).ok


async def test_health_reports_an_unreachable_backend(erp: SoapAdapter, wire: Wire) -> None:
    """A transport failure is an unhealthy answer, not an exception."""

    async def refuse(*_: object) -> HttpReply:
        raise ConnectFailed("cannot connect: refused", backend="erp")

    wire.transport.handler = refuse
    health = await erp.health()
    assert not health.ok
    assert "ConnectFailed" in health.detail
