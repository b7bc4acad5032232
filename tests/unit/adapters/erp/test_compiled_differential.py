"""The compiled SOAP codecs against zeep, the reference, on generated params and replies.

Requests are compared as XML infosets: both envelopes are put in canonical form (W3C C14N 2.0)
with prefixes rewritten in document order (``rewrite_prefixes``), which erases exactly what the
server may not depend on (which prefixes, where namespaces are declared, attribute order, how
characters are escaped) and keeps everything it may (element and attribute names with their
namespaces, order, and every character of text). HTTP headers must be equal.

Replies are rendered by zeep from generated values, read by both decoders, and compared with
types (``Decimal('1.0')`` is not ``Decimal('1')``, ``1`` is not ``True``). Valid input must stay on
the compiled path (no ``Deviation``); broken params and deviant replies must end the same way
through the adapter's functions: equal results, or errors of the same adapter class.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.erp.compiled import Deviation
from adapters.erp.envelope import build_request, parse_reply
from adapters.erp.faults import FaultPolicy, translate
from adapters.erp.operations import SoapOperation
from adapters.http import HttpReply, RecordedTransport

from .conftest import CONFIG_DIR
from .xsd_strategies import mutate_params, mutate_reply, params_of, value_of

SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
DATA_DIR = Path(__file__).parent / "data"
SANDBOX = {"SalesOrder": "wsdl/nav-salesorder.wsdl", "Item": "wsdl/nav-item.wsdl"}
SAMPLES = [
    "dynamics-nav/page-CustomerList.xml",
    "dynamics-nav/codeunit-IntegrationEntry.xml",
    "fedex-ship-v10/ship_service_v10.wsdl",
    "salesforce-v27/partner.wsdl.xml",
    "salesforce-v27/enterprise.wsdl.xml",
    "sap-pi-rfc/soap.wsdl",
    "sap-pi-rfc/get_data_sample/soap.wsdl",
]
RECORDED = [
    ("dynamics-nav/page-CustomerList.xml", "ReadMultiple", "page_readmultiple_response.xml"),
    ("dynamics-nav/page-CustomerList.xml", "CreateMultiple", "page_createmultiple_response.xml"),
    ("dynamics-nav/codeunit-IntegrationEntry.xml", "HelloWorld", "codeunit_response.xml"),
    ("sap-pi-rfc/soap.wsdl", "GET_ALL_STORE_NUMBERS", "response.xml"),
    ("sap-pi-rfc/get_data_sample/soap.wsdl", "GET_DATA", "response.xml"),
]
XML = {"Content-Type": "text/xml; charset=utf-8"}
POLICY = FaultPolicy(rules=())
STATS: Counter[str] = Counter()


def quick(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- loading ---------------------------------------------------------------------------------


def load(base: Path, **options: Any) -> dict[str, SoapOperation]:
    context = AdapterContext(
        backend="diff", endpoint="http://legacy.test/ws", connect_timeout=1, read_timeout=1,
        username="WEBUSER", password="s3cret", base_dir=str(base),
    )  # fmt: skip
    adapter = SoapAdapter(context, SoapOptions(**options), transport=RecordedTransport(_unused))
    asyncio.run(adapter.start())
    return adapter._operations


async def _unused(*args: Any) -> HttpReply:
    raise AssertionError("no request is sent")


@pytest.fixture(scope="module")
def local() -> dict[str, SoapOperation]:
    """The sandbox's NAV services, and the edge-case service of ``data/edge.wsdl``."""
    edge = load(DATA_DIR, wsdl="edge.wsdl")
    return load(CONFIG_DIR, services=SANDBOX) | {f"edge.{n}": op for n, op in edge.items()}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print("\ncompiled codec differential:", dict(sorted(STATS.items())))


# -- outcomes --------------------------------------------------------------------------------


def zeep_only(op: SoapOperation) -> SoapOperation:
    return dataclasses.replace(op, encoder=None, decoder=None)


def canonical(body: bytes) -> str:
    return etree.canonicalize(body.decode("utf-8"), rewrite_prefixes=True)


def typed(value: Any) -> Any:
    """``value`` with every scalar paired with its exact type and repr."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, repr(value))


def adapter_error(exc: Exception, stage: Any) -> str:
    error = translate(exc, stage=stage, backend="diff", operation="op", policy=POLICY)
    return f"{type(error).__name__}: {error.message}"


def check_request(op: SoapOperation, params: Mapping[str, Any], *, valid: bool) -> None:
    """The compiled encoder builds what zeep builds, or fails where zeep fails."""
    assert op.encoder is not None
    try:
        expected: Any = build_request(zeep_only(op), params)
    except Exception as exc:
        expected = exc
    try:
        body, headers = op.encoder.encode(params)
    except Deviation:
        assert not valid, "valid params must stay on the compiled path"
        STATS["request deferred to zeep"] += 1
        return
    except Exception as exc:
        assert isinstance(expected, Exception), f"zeep built what we refused: {exc!r}"
        STATS["request refused by both"] += 1
        return
    assert not isinstance(expected, Exception), f"zeep refused what we built: {expected!r}"
    assert canonical(body) == canonical(expected[0])
    assert headers == expected[1]
    STATS["request compiled" if valid else "broken request compiled"] += 1


def render_reply(op: SoapOperation, values: Any) -> bytes:
    """A reply envelope carrying ``values``, written by zeep from the WSDL."""
    output = op.zeep_operation.output
    message = output.serialize(**values) if isinstance(values, dict) else output.serialize(values)
    return etree.tostring(message.content)


def reply_outcome(op: SoapOperation, body: bytes) -> Any:
    try:
        return typed(parse_reply(op, HttpReply(200, body, XML)))
    except Exception as exc:
        return adapter_error(exc, "reply")


def check_reply(op: SoapOperation, body: bytes, *, valid: bool) -> None:
    """The compiled decoder reads what zeep reads; through the adapter, deviant replies too."""
    assert op.decoder is not None
    expected = reply_outcome(zeep_only(op), body)
    root = etree.fromstring(body)
    try:
        op.decoder.decode(root.find(f"{{{op.envelope_ns}}}Body"))
        STATS["reply compiled" if valid else "deviant reply compiled"] += 1
    except Deviation:
        assert not valid, "a reply zeep wrote from valid values must stay on the compiled path"
        STATS["deviant reply deferred to zeep"] += 1
    except Exception:
        pass  # parse_reply below must still agree
    assert reply_outcome(op, body) == expected


def input_type(op: SoapOperation) -> Any:
    return op.zeep_operation.input.body.type


def output_values(op: SoapOperation) -> st.SearchStrategy[Any]:
    element = op.zeep_operation.output.body
    return value_of(element).filter(lambda v: v is not None or not element.is_optional)


def renderable(op: SoapOperation, values: Any) -> bytes | None:
    try:
        return render_reply(op, values)
    except Exception:  # zeep refuses some generated values (e.g. required None); not our case
        return None


def requests_match(op: SoapOperation, examples: int) -> None:
    @quick(examples)
    @given(params_of(input_type(op)))
    def check(params: dict[str, Any]) -> None:
        check_request(op, params, valid=True)

    check()


def replies_match(op: SoapOperation, examples: int) -> None:
    @quick(examples)
    @given(output_values(op))
    def check(values: Any) -> None:
        body = renderable(op, values)
        if body is not None:
            check_reply(op, body, valid=True)
        STATS["reply values zeep cannot write"] += body is None

    check()


def deviant_replies_match(op: SoapOperation, examples: int) -> None:
    @quick(examples)
    @given(output_values(op), st.data())
    def check(values: Any, data: st.DataObject) -> None:
        body = renderable(op, values)
        if body is None:
            return
        root = etree.fromstring(body)
        mutate_reply(data, root.find(f"{{{op.envelope_ns}}}Body")[0])
        check_reply(op, etree.tostring(root), valid=False)

    check()


# -- the sandbox NAV services and the edge cases ---------------------------------------------

SANDBOX_OPS = [f"{s}.{o}" for s in ("SalesOrder", "Item") for o in ("Read", "ReadMultiple")]
SANDBOX_OPS += ["SalesOrder.Create", "SalesOrder.Update", "SalesOrder.Delete"]
ENCODED = [*SANDBOX_OPS, "edge.PutOrder", "edge.GetAddress"]
DECODED = [*ENCODED, "edge.Pick"]


@pytest.mark.parametrize("name", ENCODED)
def test_requests_encode_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Generated valid params give the same envelope and headers, on the compiled path."""
    requests_match(local[name], 60)


@pytest.mark.parametrize("name", ENCODED)
def test_broken_params_fail_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Params broken in one place (missing, junk, unknown) fail wherever zeep's fail."""
    op = local[name]

    @quick(60)
    @given(params_of(input_type(op)), st.data())
    def check(params: dict[str, Any], data: st.DataObject) -> None:
        mutate_params(data, params)
        check_request(op, params, valid=False)

    check()


@pytest.mark.parametrize("name", DECODED)
def test_replies_decode_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Replies zeep writes from generated values read back identically, types included."""
    replies_match(local[name], 60)


@pytest.mark.parametrize("name", DECODED)
def test_deviant_replies_read_as_zeep_reads_them(
    local: dict[str, SoapOperation], name: str
) -> None:
    """A reply changed in one place gives zeep's result or zeep's error, never a third answer."""
    deviant_replies_match(local[name], 80)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_ws_security_and_soap_versions_match_zeep(tmp_path: Path, version: str) -> None:
    """With a WS-Security UsernameToken, under SOAP 1.1 and 1.2, envelopes and headers match."""
    wsdl = (CONFIG_DIR / "wsdl" / "nav-item.wsdl").read_text()
    if version == "1.2":
        wsdl = wsdl.replace(
            "http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/"
        )
    (tmp_path / "item.wsdl").write_text(wsdl)
    ops = load(tmp_path, wsdl="item.wsdl", wsse="username_token")
    op = ops["ReadMultiple"]
    assert op.soap_version == version
    check_request(op, {"filter": [{"Field": "No", "Criteria": "1*"}], "setSize": 3}, valid=True)
    requests_match(op, 20)
    replies_match(op, 20)


# -- the document/literal samples ------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(samples_dir: Path) -> dict[str, dict[str, SoapOperation]]:
    soap = samples_dir / "soap"
    locations = {SOAP_ENC: str(soap / "_helpers" / "soap-encoding.xsd")}
    return {wsdl: load(soap, wsdl=wsdl, schema_locations=locations) for wsdl in SAMPLES}


def each_compiled(ops: Mapping[str, SoapOperation], side: str) -> list[SoapOperation]:
    chosen = [op for op in ops.values() if getattr(op, side) is not None]
    STATS[f"sample operations with a compiled {side}"] += len(chosen)
    STATS[f"sample operations without a compiled {side}"] += len(ops) - len(chosen)
    return chosen


@pytest.mark.interop
@pytest.mark.parametrize("wsdl", SAMPLES)
def test_sample_requests_encode_as_zeep_does(
    samples: dict[str, dict[str, SoapOperation]], wsdl: str
) -> None:
    """Every compiled operation of every sample WSDL builds zeep's request for generated params."""
    compiled = each_compiled(samples[wsdl], "encoder")
    assert compiled
    for op in compiled:
        requests_match(op, 12)


@pytest.mark.interop
@pytest.mark.parametrize("wsdl", SAMPLES)
def test_sample_replies_decode_as_zeep_does(
    samples: dict[str, dict[str, SoapOperation]], wsdl: str
) -> None:
    """Every compiled operation of every sample WSDL reads replies zeep writes as zeep does."""
    compiled = each_compiled(samples[wsdl], "decoder")
    assert compiled
    for op in compiled:
        replies_match(op, 8)


@pytest.mark.interop
@pytest.mark.parametrize("wsdl", SAMPLES)
def test_sample_deviant_replies_read_as_zeep_reads_them(
    samples: dict[str, dict[str, SoapOperation]], wsdl: str
) -> None:
    """Deviant replies of the sample operations end as zeep ends them."""
    for op in samples[wsdl].values():
        if op.decoder is not None:
            deviant_replies_match(op, 6)


@pytest.mark.interop
@pytest.mark.parametrize(("wsdl", "operation", "response"), RECORDED)
def test_recorded_replies_decode_as_zeep_does(
    samples: dict[str, dict[str, SoapOperation]],
    samples_dir: Path,
    wsdl: str,
    operation: str,
    response: str,
) -> None:
    """The real servers' recorded replies read identically, on the compiled path."""
    body = (samples_dir / "soap" / wsdl).with_name(response).read_bytes()
    check_reply(samples[wsdl][operation], body, valid=True)
