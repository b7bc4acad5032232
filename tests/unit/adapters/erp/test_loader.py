"""Loading WSDLs offline: imports come from beside the WSDL or from the allowlist, never the net."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions, WsdlLoadError
from adapters.erp.loader import LocalOnlyTransport, load_client

from .conftest import Wire, make_adapter

TNS = "urn:test:quotes"
TYPES_NS = "urn:test:quote-types"


def wsdl(imports: str = "", *, prolog: str = "") -> str:
    """A document/literal WSDL whose GetQuote returns a Quote type from ``TYPES_NS``."""
    return f"""<?xml version="1.0"?>{prolog}
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{TNS}" xmlns:qt="{TYPES_NS}"
    targetNamespace="{TNS}">
  <types>
    <xsd:schema targetNamespace="{TNS}" elementFormDefault="qualified">
      {imports}
      <xsd:element name="GetQuote"><xsd:complexType><xsd:sequence>
        <xsd:element name="symbol" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="GetQuoteResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="quote" type="qt:Quote"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </types>
  <message name="In"><part name="parameters" element="tns:GetQuote"/></message>
  <message name="Out"><part name="parameters" element="tns:GetQuoteResponse"/></message>
  <portType name="Port"><operation name="GetQuote">
    <input message="tns:In"/><output message="tns:Out"/></operation></portType>
  <binding name="Binding" type="tns:Port">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="GetQuote"><soap:operation soapAction="urn:GetQuote"/>
      <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output>
    </operation>
  </binding>
  <service name="Quotes"><port name="QuotesPort" binding="tns:Binding">
    <soap:address location="http://dev-box.corp:8080/quotes"/></port></service>
</definitions>"""


TYPES_XSD = f"""<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="{TYPES_NS}"
    elementFormDefault="qualified">
  <xsd:complexType name="Quote"><xsd:sequence>
    <xsd:element name="price" type="xsd:decimal"/>
  </xsd:sequence></xsd:complexType>
</xsd:schema>"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(path: Path, schema_locations: dict[str, str] | None = None) -> object:
    return load_client(
        str(path), schema_locations=schema_locations or {}, strict=True, timeout=(1, 1)
    )


def quote_type_loaded(client: object) -> bool:
    return client.get_type(f"{{{TYPES_NS}}}Quote") is not None  # type: ignore[attr-defined]


def test_remote_import_not_allowlisted_is_refused_naming_the_url(tmp_path: Path) -> None:
    """An import of a URL stops the load, naming the URL and the option that allowlists it."""
    url = "http://schemas.example.invalid/quote-types.xsd"
    path = write(
        tmp_path / "q.wsdl", wsdl(f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{url}"/>')
    )
    with pytest.raises(WsdlLoadError) as info:
        load(path)
    assert url in str(info.value)
    assert "schema_locations" in str(info.value)


def test_allowlisted_url_is_served_from_the_local_copy(tmp_path: Path) -> None:
    """A URL listed in schema_locations loads from its local file, with no network."""
    url = "http://schemas.example.invalid/quote-types.xsd"
    local = write(tmp_path / "cache" / "types.xsd", TYPES_XSD)
    path = write(
        tmp_path / "q.wsdl", wsdl(f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{url}"/>')
    )
    assert quote_type_loaded(load(path, {url: str(local)}))


def test_namespace_only_import_is_resolved_by_namespace(tmp_path: Path) -> None:
    """An import without schemaLocation is served when its namespace is allowlisted."""
    local = write(tmp_path / "types.xsd", TYPES_XSD)
    path = write(tmp_path / "q.wsdl", wsdl(f'<xsd:import namespace="{TYPES_NS}"/>'))
    assert quote_type_loaded(load(path, {TYPES_NS: str(local)}))


@pytest.mark.parametrize("where", ["types.xsd", "../shared/types.xsd"])
def test_relative_import_beside_the_wsdl_is_allowed(tmp_path: Path, where: str) -> None:
    """Relative imports of a local WSDL name local files and load without an allowlist."""
    write((tmp_path / "wsdl" / where).resolve(), TYPES_XSD)
    imports = f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{where}"/>'
    assert quote_type_loaded(load(write(tmp_path / "wsdl" / "q.wsdl", wsdl(imports))))


def test_absolute_path_import_is_refused(tmp_path: Path) -> None:
    """A WSDL may not name arbitrary local files by absolute path or file: URL."""
    local = write(tmp_path / "types.xsd", TYPES_XSD)
    for location in (str(local), f"file://{local}"):
        imports = f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{location}"/>'
        with pytest.raises(WsdlLoadError, match="schema_locations"):
            load(write(tmp_path / "q.wsdl", wsdl(imports)))


def test_wsdl_with_a_doctype_is_refused(tmp_path: Path) -> None:
    """A WSDL carrying a DTD (entity tricks) is refused before zeep reads it."""
    path = write(tmp_path / "q.wsdl", wsdl(prolog='<!DOCTYPE d [<!ENTITY e "x">]>'))
    with pytest.raises(WsdlLoadError, match="DOCTYPE"):
        load(path)


def test_transport_serves_nothing_it_was_not_led_to(tmp_path: Path) -> None:
    """The transport refuses a file no loaded document imports, and URLs of other origins."""
    path = write(tmp_path / "q.wsdl", wsdl())
    transport = LocalOnlyTransport(str(path), schema_locations={})
    with pytest.raises(WsdlLoadError):
        transport.load("/etc/passwd")
    with pytest.raises(WsdlLoadError):
        transport.load("http://169.254.169.254/latest/meta-data/")


def test_url_wsdl_may_import_from_its_own_origin_only() -> None:
    """A WSDL fetched by URL may import ?xsd=1 from its origin, not from another host."""
    transport = LocalOnlyTransport("http://erp.corp:8080/svc?wsdl", schema_locations={})
    same = wsdl(f'<xsd:import namespace="{TYPES_NS}" schemaLocation="svc?xsd=1"/>').encode()
    assert transport._vetted("http://erp.corp:8080/svc?wsdl", same) == same
    other = wsdl(
        f'<xsd:import namespace="{TYPES_NS}" schemaLocation="http://evil.example/x.xsd"/>'
    ).encode()
    with pytest.raises(WsdlLoadError, match=r"evil\.example"):
        transport._vetted("http://erp.corp:8080/svc?wsdl", other)
    relative_file = wsdl(
        f'<xsd:import namespace="{TYPES_NS}" schemaLocation="../../etc/x.xsd"/>'
    ).encode()
    assert transport._vetted("http://erp.corp:8080/svc?wsdl", relative_file)  # stays on origin


async def test_start_loads_without_contacting_the_backend(wire: Wire) -> None:
    """start() reads WSDLs from disk only: the wire sees no request."""
    adapter = make_adapter(wire)
    await adapter.start()
    assert wire.transport.requests == []
    assert set(adapter.operations() or {}) >= {"SalesOrder.Read", "Item.ReadMultiple"}


async def test_start_reports_an_import_it_may_not_fetch(tmp_path: Path, wire: Wire) -> None:
    """The adapter's start fails with the loader's clear message, for check-config to show."""
    url = "http://schemas.example.invalid/quote-types.xsd"
    write(tmp_path / "q.wsdl", wsdl(f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{url}"/>'))
    context = AdapterContext(
        backend="quotes",
        endpoint="http://q",
        connect_timeout=1,
        read_timeout=1,
        base_dir=str(tmp_path),
    )
    adapter = SoapAdapter(context, SoapOptions(wsdl="q.wsdl"), transport=wire.transport)
    with pytest.raises(WsdlLoadError, match=url):
        await adapter.start()


async def test_the_adapter_remembers_every_local_file_it_read(tmp_path: Path, wire: Wire) -> None:
    """The WSDL, a relative import and an allowlisted schema are all remembered, by content."""
    url = "http://schemas.example.invalid/more-types.xsd"
    write(tmp_path / "types.xsd", TYPES_XSD)
    allowlisted = write(tmp_path / "cache" / "more.xsd", TYPES_XSD.replace(TYPES_NS, "urn:more"))
    imports = (
        f'<xsd:import namespace="{TYPES_NS}" schemaLocation="types.xsd"/>'
        f'<xsd:import namespace="urn:more" schemaLocation="{url}"/>'
    )
    write(tmp_path / "q.wsdl", wsdl(imports))
    context = AdapterContext(
        backend="quotes",
        endpoint="http://q",
        connect_timeout=1,
        read_timeout=1,
        base_dir=str(tmp_path),
    )
    options = SoapOptions(wsdl="q.wsdl", schema_locations={url: "cache/more.xsd"})
    adapter = SoapAdapter(context, options, transport=wire.transport)
    await adapter.start()

    sources = adapter.sources()
    assert real(sources.digests) == real(
        [tmp_path / n for n in ("q.wsdl", "types.xsd", "cache/more.xsd")]
    )
    assert sources.changed() == []
    write(allowlisted, TYPES_XSD.replace(TYPES_NS, "urn:more").replace("price", "cost"))
    assert real(sources.changed()) == real([allowlisted])


def real(paths: Iterable[str | Path]) -> set[Path]:
    return {Path(path).resolve() for path in paths}
