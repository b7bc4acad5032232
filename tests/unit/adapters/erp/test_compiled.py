"""When the SOAP adapter uses its compiled codecs, when it leaves the work to zeep, and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from structlog.testing import capture_logs
from zeep import xsd

from adapters.erp import SoapAdapter
from adapters.erp.compiled import Deviation
from adapters.erp.compiled.compiler import TypeCompiler
from adapters.errors import InvalidRequest, ProtocolError

from .conftest import SALES_NS, SOAP_ENV, Wire, envelope, make_adapter

EDGE = str(Path(__file__).parent / "data" / "edge.wsdl")
EDGE_NS = "urn:veneer:edge"


@pytest.fixture
async def edge(wire: Wire) -> SoapAdapter:
    adapter = make_adapter(wire, wsdl=EDGE)
    await adapter.start()
    return adapter


def body_of(reply: bytes) -> etree._Element:
    return etree.fromstring(reply).find(f"{{{SOAP_ENV}}}Body")


async def test_document_literal_operations_are_compiled_by_default(erp: SoapAdapter) -> None:
    """Every operation of the sandbox's NAV services builds and reads with compiled codecs."""
    for op in erp._operations.values():
        assert op.encoder is not None and op.decoder is not None, op.name


async def test_codec_zeep_leaves_everything_to_zeep(wire: Wire) -> None:
    """``codec: zeep`` compiles nothing: zeep is the reference behaviour, one option away."""
    adapter = make_adapter(wire, codec="zeep")
    await adapter.start()
    assert all(op.encoder is None and op.decoder is None for op in adapter._operations.values())


async def test_uncovered_constructs_fall_back_per_direction_saying_why(wire: Wire) -> None:
    """A choice keeps only the request on zeep; attributes keep both; the reasons are logged."""
    adapter = make_adapter(wire, wsdl=EDGE)
    with capture_logs() as logs:
        await adapter.start()
    ops = adapter._operations
    assert ops["Pick"].encoder is None and ops["Pick"].decoder is not None
    assert ops["Label"].encoder is None and ops["Label"].decoder is None
    reasons = {(e["operation"], e["direction"]): e["reason"] for e in logs}
    assert reasons == {
        ("Pick", "request"): "Choosy: xsd:choice content",
        ("Label", "request"): "Labelled: attributes",
        ("Label", "reply"): "Labelled: attributes",
    }


async def test_a_reply_with_xsi_type_is_read_by_zeep(erp: SoapAdapter, wire: Wire) -> None:
    """An ``xsi:type`` leaves the compiled path, and the call still returns zeep's reading."""
    reply = envelope(
        f'<Read_Result xmlns="{SALES_NS}" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">'
        '<SalesOrder><No x:type="x:string">SO-1</No></SalesOrder></Read_Result>'
    )
    with pytest.raises(Deviation, match="xsi:type"):
        erp._operations["SalesOrder.Read"].decoder.decode(body_of(reply))  # type: ignore[union-attr]
    wire.reply(reply)
    order = await erp.call("SalesOrder.Read", {"No": "SO-1"})
    assert order["No"] == "SO-1"


async def test_elements_beyond_max_occurs_are_zeeps_error(edge: SoapAdapter, wire: Wire) -> None:
    """A fourth Address where three at most may come: zeep's verdict, a ProtocolError."""
    addresses = "".join(f"<t:Address><t:City>c{i}</t:City></t:Address>" for i in range(4))
    reply = envelope(
        f'<t:GetAddressResponse xmlns:t="{EDGE_NS}">{addresses}<t:Checked>1</t:Checked>'
        "</t:GetAddressResponse>"
    )
    with pytest.raises(Deviation, match="Checked is required"):
        edge._operations["GetAddress"].decoder.decode(body_of(reply))  # type: ignore[union-attr]
    wire.reply(reply)
    with pytest.raises(ProtocolError, match=r"Unexpected element .*Address"):
        await edge.call("GetAddress", {"Id": [1]})


async def test_an_unqualified_element_is_matched_as_zeep_matches_it(
    edge: SoapAdapter, wire: Wire
) -> None:
    """zeep takes ``<Code>`` for the qualified Code before its unqualified twin: so does the call."""
    reply = envelope(f'<t:TwinResponse xmlns:t="{EDGE_NS}"><Code>7</Code></t:TwinResponse>')
    with pytest.raises(Deviation, match="leniently"):
        edge._operations["Twin"].decoder.decode(body_of(reply))  # type: ignore[union-attr]
    wire.reply(reply)
    assert await edge.call("Twin", {}) == {"Code": "7", "Code__1": None}


async def test_params_zeep_treats_specially_are_built_by_zeep(
    edge: SoapAdapter, wire: Wire
) -> None:
    """``xsd.Nil`` asks for an explicit nil: the compiled encoder defers, zeep renders it."""
    wire.reply(envelope(f'<t:TwinResponse xmlns:t="{EDGE_NS}"/>'))
    encoder = edge._operations["Twin"].encoder
    assert encoder is not None
    with pytest.raises(Deviation):
        encoder.encode({"Code": xsd.Nil})
    await edge.call("Twin", {"Code": xsd.Nil})
    sent = etree.fromstring(wire.sent[2]).find(f".//{{{EDGE_NS}}}Code")
    assert sent is not None
    assert sent.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


async def test_invalid_params_are_invalid_requests_on_the_compiled_path(
    erp: SoapAdapter, wire: Wire
) -> None:
    """Where zeep would refuse params, the compiled encoder refuses them too, before sending."""
    with pytest.raises(InvalidRequest, match=r"Missing element No \(Read\.No\)"):
        await erp.call("SalesOrder.Read", {"No": None})
    with pytest.raises(InvalidRequest, match="unexpected keyword argument 'Colour'"):
        await erp.call("SalesOrder.Create", {"SalesOrder": {"Colour": "red"}})
    with pytest.raises(InvalidRequest, match="Unicode or ASCII, no NULL bytes"):
        await erp.call("SalesOrder.Read", {"No": "SO\x00"})
    assert wire.transport.requests == []


async def test_a_compiler_failure_leaves_the_operation_on_zeep(
    wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema the compiler trips over never stops the gateway: zeep serves, with a warning."""

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(TypeCompiler, "field", broken)
    adapter = make_adapter(wire)
    with capture_logs() as logs:
        await adapter.start()
    assert all(op.encoder is None and op.decoder is None for op in adapter._operations.values())
    assert {e["log_level"] for e in logs} == {"warning"}
    assert "RuntimeError: boom" in logs[0]["reason"]
    wire.reply(envelope(f'<Read_Result xmlns="{SALES_NS}"/>'))
    assert await adapter.call("SalesOrder.Read", {"No": "SO-1"}) is None
