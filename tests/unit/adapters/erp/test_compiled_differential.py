"""The compiled SOAP codecs against zeep, the reference, on generated params and replies.

For each operation: generated valid params build the same request (compared as canonical XML,
see :mod:`.differential`) without leaving the compiled path; params broken in one place fail
wherever zeep's fail; replies zeep writes from generated values read back identically, types
included; replies changed in one place (dropped, duplicated, unknown, nil, junk text, unqualified,
xsi:type ...) end as zeep ends them. The operations: the sandbox's NAV services, the edge cases of
``data/edge.wsdl``, and (marked interop) every compiled operation of the document/literal WSDLs
among the shared samples, with the real servers' recorded replies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from adapters.erp.operations import SoapOperation

from .conftest import CONFIG_DIR
from .differential import (
    STATS,
    broken_requests_match,
    check_reply,
    check_request,
    deviant_replies_match,
    load,
    replies_match,
    requests_match,
)

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


@pytest.fixture(scope="module")
def local() -> dict[str, SoapOperation]:
    """The sandbox's NAV services, and the edge-case service of ``data/edge.wsdl``."""
    edge = load(DATA_DIR, wsdl="edge.wsdl")
    return load(CONFIG_DIR, services=SANDBOX) | {f"edge.{n}": op for n, op in edge.items()}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print("\ncompiled codec differential:", dict(sorted(STATS.items())))


# -- the sandbox NAV services and the edge cases ---------------------------------------------

SANDBOX_OPS = [f"{s}.{o}" for s in ("SalesOrder", "Item") for o in ("Read", "ReadMultiple")]
SANDBOX_OPS += ["SalesOrder.Create", "SalesOrder.Update", "SalesOrder.Delete"]
ENCODED = [*SANDBOX_OPS, "edge.PutOrder", "edge.GetAddress", "edge.Twin"]
DECODED = [*SANDBOX_OPS, "edge.PutOrder", "edge.GetAddress", "edge.Pick"]
DEVIANT = [*DECODED, "edge.Twin"]  # zeep reads its twin's replies leniently: compiled defers


@pytest.mark.parametrize("name", ENCODED)
def test_requests_encode_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Generated valid params give the same envelope and headers, on the compiled path."""
    assert requests_match(local[name], 60) > 0


@pytest.mark.parametrize("name", ENCODED)
def test_broken_params_fail_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Params broken in one place (missing, junk, unknown) fail wherever zeep's fail."""
    assert broken_requests_match(local[name], 60) > 0


@pytest.mark.parametrize("name", DECODED)
def test_replies_decode_as_zeep_does(local: dict[str, SoapOperation], name: str) -> None:
    """Replies zeep writes from generated values read back identically, types included."""
    assert replies_match(local[name], 60) > 0


@pytest.mark.parametrize("name", DEVIANT)
def test_deviant_replies_read_as_zeep_reads_them(
    local: dict[str, SoapOperation], name: str
) -> None:
    """A reply changed in one place gives zeep's result or zeep's error, never a third answer."""
    assert deviant_replies_match(local[name], 80) > 0


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
    params = {"filter": [{"Field": "No", "Criteria": "1*"}], "setSize": 3}
    assert check_request(op, params, valid=True) == "request compiled"
    assert requests_match(op, 20) > 0
    assert replies_match(op, 20) > 0


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
    assert all(requests_match(op, 12) > 0 for op in compiled)


@pytest.mark.interop
@pytest.mark.parametrize("wsdl", SAMPLES)
def test_sample_replies_decode_as_zeep_does(
    samples: dict[str, dict[str, SoapOperation]], wsdl: str
) -> None:
    """Every compiled operation of every sample WSDL reads replies zeep writes as zeep does."""
    compiled = each_compiled(samples[wsdl], "decoder")
    assert compiled
    assert sum(replies_match(op, 8) for op in compiled) > 0


@pytest.mark.interop
@pytest.mark.parametrize("wsdl", SAMPLES)
def test_sample_deviant_replies_read_as_zeep_reads_them(
    samples: dict[str, dict[str, SoapOperation]], wsdl: str
) -> None:
    """Deviant replies of the sample operations end as zeep ends them."""
    compiled = [op for op in samples[wsdl].values() if op.decoder is not None]
    assert sum(deviant_replies_match(op, 6) for op in compiled) > 0


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
    assert check_reply(samples[wsdl][operation], body, valid=True) == "reply compiled"
