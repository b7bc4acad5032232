"""The unwrapping rule for rpc operations, and plain data out of zeep's objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from zeep import xsd

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.erp.results import plain

from .conftest import SOAP_ENV, Wire

NS = "urn:test:rpc"
OPERATIONS = "".join(
    f'<operation name="{name}"><soap:operation soapAction="urn:{name}"/>'
    f'<input><soap:body use="literal" namespace="{NS}"/></input>'
    f'<output><soap:body use="literal" namespace="{NS}"/></output></operation>'
    for name in ("Ping", "Echo", "Pair")
)
RPC_WSDL = f"""<?xml version="1.0"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NS}" targetNamespace="{NS}">
  <message name="PingIn"/><message name="PingOut"/>
  <message name="EchoIn"><part name="text" type="xsd:string"/></message>
  <message name="EchoOut"><part name="return" type="xsd:string"/></message>
  <message name="PairOut"><part name="left" type="xsd:int"/><part name="right" type="xsd:int"/></message>
  <portType name="P">
    <operation name="Ping"><input message="tns:PingIn"/><output message="tns:PingOut"/></operation>
    <operation name="Echo"><input message="tns:EchoIn"/><output message="tns:EchoOut"/></operation>
    <operation name="Pair"><input message="tns:PingIn"/><output message="tns:PairOut"/></operation>
  </portType>
  <binding name="B" type="tns:P">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>{OPERATIONS}
  </binding>
</definitions>"""


@pytest.fixture
async def rpc(tmp_path: Path, wire: Wire) -> SoapAdapter:
    (tmp_path / "rpc.wsdl").write_text(RPC_WSDL)
    context = AdapterContext(
        backend="rpc",
        endpoint="http://rpc.test/",
        connect_timeout=1,
        read_timeout=1,
        base_dir=str(tmp_path),
    )
    adapter = SoapAdapter(context, SoapOptions(wsdl="rpc.wsdl"), transport=wire.transport)
    await adapter.start()
    return adapter


def rpc_reply(name: str, parts: str = "") -> bytes:
    return (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><t:{name}Response xmlns:t="{NS}">{parts}'
        f"</t:{name}Response></e:Body></e:Envelope>"
    ).encode()


async def test_rpc_without_output_parts_returns_none(rpc: SoapAdapter, wire: Wire) -> None:
    """A void rpc operation's empty response is None, not {}."""
    wire.reply(rpc_reply("Ping"))
    assert await rpc.call("Ping", {}) is None
    assert etree.fromstring(wire.sent[2]).find(f".//{{{NS}}}Ping") is not None


async def test_rpc_single_part_unwraps_to_its_value(rpc: SoapAdapter, wire: Wire) -> None:
    """One output part is returned as its value."""
    wire.reply(rpc_reply("Echo", "<return>hello</return>"))
    assert await rpc.call("Echo", {"text": "hello"}) == "hello"


async def test_rpc_several_parts_stay_a_dict(rpc: SoapAdapter, wire: Wire) -> None:
    """Several output parts are a dict keyed by part name."""
    wire.reply(rpc_reply("Pair", "<left>1</left><right>2</right>"))
    assert await rpc.call("Pair", {}) == {"left": 1, "right": 2}


def test_plain_turns_untyped_xml_into_nested_dicts() -> None:
    """xsd:any content becomes dicts by local name, lists for repeats, '@' for attributes."""
    element = etree.fromstring(
        '<r xmlns="urn:x" id="7"><line>a</line><line>b</line><empty/><n>note<b>x</b></n></r>'
    )
    assert plain(element) == {
        "@id": "7",
        "line": ["a", "b"],
        "empty": None,
        "n": {"#text": "note", "b": "x"},
    }


def test_plain_unwraps_any_objects_and_qnames() -> None:
    """AnyObject values and QNames become their plain values."""
    value = {"a": xsd.AnyObject(xsd.String(), "s"), "q": etree.QName("urn:x", "y"), "l": [1]}
    assert plain(value) == {"a": "s", "q": "{urn:x}y", "l": [1]}
