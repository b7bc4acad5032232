"""Real-world SOAP samples through SoapAdapter: every WSDL loads offline, every operation builds,
every recorded reply parses, and the broken samples fail with clear errors.

WSDLs load under the hardened settings with nothing fetched: the SOAP-encoding schema comes from
``soap/_helpers/soap-encoding.xsd`` through ``schema_locations``; SugarCRM v4.1 also imports the
WSDL 1.1 schema by URL, for which a local stub declaring ``wsdl:arrayType`` is allowlisted.
NetSuite's sample cannot load strictly (its imports point at 2011_1 schemas under 2013_2
namespaces) and must say so. Requests are built from skeleton params (:mod:`soap_skeleton`) and
sent to a recorded wire that answers 202, so the adapter's whole call path runs offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from lxml import etree

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions, WsdlLoadError
from adapters.errors import AccessDenied, ProtocolError
from adapters.http import HttpReply, RecordedTransport

from .soap_skeleton import skeleton_params

pytestmark = pytest.mark.interop

SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSDL_STUB = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{WSDL_NS}">
  <xs:attribute name="arrayType" type="xs:string"/>
</xs:schema>"""
#: Every WSDL under soap/, and how many operations its (SOAP 1.1) binding has.
WSDLS = {
    "dynamics-nav/page-CustomerList.xml": 2,
    "dynamics-nav/codeunit-IntegrationEntry.xml": 1,
    "fedex-ship-v10/ship_service_v10.wsdl": 7,
    "magento1/magento.wsdl": 8,
    "magento1/magento_v2_soap.wsdl": 105,
    "magento1-multicall/soap.wsdl": 1,
    "salesforce-v27/enterprise.wsdl.xml": 32,
    "salesforce-v27/partner.wsdl.xml": 32,
    "sap-pi-rfc/soap.wsdl": 2,
    "sap-pi-rfc/get_data_sample/soap.wsdl": 2,
    "sugarcrm/sugar.wsdl": 49,
    "sugarcrm/sugar41.wsdl": 27,
}
NETSUITE = "netsuite-login-fault/request-response-samples/login__error_returned_should_contain_root_Json_on_fault"
Sent = list[tuple[bytes, Mapping[str, str]]]


@pytest.fixture(scope="module")
def soap_dir(samples_dir: Path) -> Path:
    return samples_dir / "soap"


@pytest.fixture(scope="module")
def schema_locations(soap_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    stub = tmp_path_factory.mktemp("schemas") / "wsdl-1.1-stub.xsd"
    stub.write_text(WSDL_STUB)
    return {SOAP_ENC: str(soap_dir / "_helpers" / "soap-encoding.xsd"), WSDL_NS: str(stub)}


async def started(
    soap_dir: Path,
    wsdl: str,
    schema_locations: Mapping[str, str],
    reply: HttpReply | None = None,
    **options: Any,
) -> tuple[SoapAdapter, Sent]:
    """An adapter on ``wsdl`` whose wire records requests and answers ``reply`` (202 if none)."""
    sent: Sent = []

    async def answer(method: str, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        sent.append((body, headers))
        return reply or HttpReply(202, b"")

    context = AdapterContext(
        backend="sample",
        endpoint="http://legacy.test/soap",
        connect_timeout=1,
        read_timeout=1,
        username=options.pop("username", None),
        password=options.pop("password", None),
        base_dir=str(soap_dir),
    )
    opts = SoapOptions(wsdl=wsdl, schema_locations=schema_locations, **options)
    adapter = SoapAdapter(context, opts, transport=RecordedTransport(answer))
    await adapter.start()
    return adapter, sent


def body_child(body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    (child,) = root.find(f"{{{root.nsmap[root.prefix]}}}Body")
    return child


@pytest.mark.parametrize("wsdl", sorted(WSDLS))
async def test_every_operation_of_every_wsdl_builds(
    soap_dir: Path, schema_locations: dict[str, str], wsdl: str
) -> None:
    """The WSDL loads offline and each operation sends a request with its element and action."""
    adapter, sent = await started(soap_dir, wsdl, schema_locations)
    operations = adapter._operations
    assert len(operations) == WSDLS[wsdl]
    for name, op in operations.items():
        assert await adapter.call(name, skeleton_params(op.zeep_operation.input)) is None
        body, headers = sent[-1]
        assert headers["SOAPAction"] == f'"{op.soap_action or ""}"', name
        child = body_child(body)
        expected = op.zeep_operation.input.body.qname if op.style == "document" else None
        assert child.tag == (expected or child.tag), name
        if op.style == "rpc":
            assert etree.QName(child).localname == op.wsdl_name
    assert len(sent) == len(operations)


async def test_netsuite_wsdl_refuses_to_load_strictly_with_a_clear_error(
    soap_dir: Path, schema_locations: dict[str, str]
) -> None:
    """NetSuite's imports name schemas of another version: the error says which import."""
    with pytest.raises(WsdlLoadError) as info:
        await started(soap_dir, f"{NETSUITE}/soap.wsdl", schema_locations)
    message = str(info.value)
    assert "doesn't match the imported targetNamespace" in message
    assert "platform.coreTypes.xsd" in message


def jsonable(value: Any) -> bytes:
    """JSON as the facade renders it (Decimal as text; dates natively by orjson)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return format(obj, "f")
        raise TypeError(type(obj).__name__)

    return orjson.dumps(value, default=default)


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


RECORDED = [
    (
        "dynamics-nav/page-CustomerList.xml",
        "ReadMultiple",
        "dynamics-nav/page_readmultiple_response.xml",
        [{"No": "123", "Name": "Customer #1"}, {"No": "456", "Name": "Customer #2"}],
    ),
    (
        "dynamics-nav/page-CustomerList.xml",
        "CreateMultiple",
        "dynamics-nav/page_createmultiple_response.xml",
        [{"No": "234567", "Name": "Happy Customer Inc"}, {"No": "345678", "Name": "Cool Guy Inc"}],
    ),
    (
        "dynamics-nav/codeunit-IntegrationEntry.xml",
        "HelloWorld",
        "dynamics-nav/codeunit_response.xml",
        {"return_value": True, "oGreeting": "Test greeting"},
    ),
    ("magento1-multicall/soap.wsdl", "multiCall", "magento1-multicall/response.xml", [True]),
    ("sap-pi-rfc/soap.wsdl", "GET_ALL_STORE_NUMBERS", "sap-pi-rfc/response.xml", "response.json"),
    (
        "sap-pi-rfc/get_data_sample/soap.wsdl",
        "GET_DATA",
        "sap-pi-rfc/get_data_sample/response.xml",
        "response.json",
    ),
]


@pytest.mark.parametrize(("wsdl", "operation", "response", "expected"), RECORDED)
async def test_recorded_replies_parse_to_plain_json(
    soap_dir: Path,
    schema_locations: dict[str, str],
    wsdl: str,
    operation: str,
    response: str,
    expected: Any,
) -> None:
    """Each recorded reply becomes plain data that renders as JSON, as node-soap read it."""
    recorded = (soap_dir / response).read_bytes()
    reply = HttpReply(200, recorded, {"Content-Type": "text/xml; charset=utf-8"})
    adapter, _ = await started(soap_dir, wsdl, schema_locations, reply)
    op = adapter._operations[operation]
    result = await adapter.call(operation, skeleton_params(op.zeep_operation.input))
    jsonable(result)
    if expected == "response.json":  # node-soap's reading, which omits absent fields
        expected = orjson.loads((soap_dir / response).with_name("response.json").read_bytes())
        result = without_nulls(result)
    assert result == expected


async def test_netsuite_login_fault_is_access_denied(
    soap_dir: Path, schema_locations: dict[str, str]
) -> None:
    """NetSuite's Axis fault (Server.userException, INVALID_LOGIN_CREDENTIALS) is AccessDenied."""
    recorded = (soap_dir / NETSUITE / "response.xml").read_bytes()
    reply = HttpReply(500, recorded, {"Content-Type": "text/xml; charset=utf-8"})
    wsdl = "dynamics-nav/codeunit-IntegrationEntry.xml"  # any SOAP 1.1 operation reads a fault
    adapter, _ = await started(soap_dir, wsdl, schema_locations, reply)
    with pytest.raises(AccessDenied) as info:
        await adapter.call("HelloWorld", {"iName": "x", "oGreeting": "y"})
    assert not info.value.transient
    assert info.value.code == "soapenv:Server.userException"
    assert "partners-java10009" not in str(info.value)  # the detail's host name stays out


async def test_malformed_sap_message_is_a_protocol_error_naming_the_problem(
    soap_dir: Path, schema_locations: dict[str, str]
) -> None:
    """SAP's recorded request with a bad QName is refused as not well-formed, saying where."""
    recorded = (soap_dir / "sap-pi-rfc" / "get_data_sample" / "request.xml").read_bytes()
    reply = HttpReply(200, recorded, {"Content-Type": "text/xml"})
    adapter, _ = await started(
        soap_dir, "sap-pi-rfc/get_data_sample/soap.wsdl", schema_locations, reply
    )
    with pytest.raises(ProtocolError) as info:
        await adapter.call("GET_DATA", {"IV_REQUESTER": "REQUSER1"})
    assert "not well-formed" in info.value.message
    assert "Failed to parse QName 'xmlns:ns0:Z_STORE_TEMPLATE_GET_DATA'" in info.value.message


async def test_sap_request_with_ws_security_matches_the_recording(
    soap_dir: Path, schema_locations: dict[str, str]
) -> None:
    """wsse: username_token builds SAP's recorded request: same token and body content."""
    security = orjson.loads((soap_dir / "sap-pi-rfc" / "security.json").read_bytes())
    adapter, sent = await started(
        soap_dir,
        "sap-pi-rfc/soap.wsdl",
        schema_locations,
        wsse="username_token",
        username=security["username"],
        password=security["password"],
    )
    await adapter.call("GET_ALL_STORE_NUMBERS", {"IV_REQUESTER": "REQUSER1"})
    ours = etree.fromstring(sent[-1][0])
    recorded = etree.fromstring((soap_dir / "sap-pi-rfc" / "request.xml").read_bytes())
    for doc in (ours, recorded):
        token = doc.find(f".//{{{WSSE}}}UsernameToken")
        assert token is not None
        assert token.findtext(f"{{{WSSE}}}Username") == "basicuser"
        password = token.find(f"{{{WSSE}}}Password")
        assert password is not None
        assert password.text == "basicpass"
        assert password.get("Type", "").endswith("#PasswordText")
    assert body_child(sent[-1][0]).tag == body_child(etree.tostring(recorded)).tag
    assert body_child(sent[-1][0]).findtext("IV_REQUESTER") == "REQUSER1"
