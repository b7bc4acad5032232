"""Each WSDL operation, prepared once at startup: where it goes, what it takes, what it returns.

A :class:`SoapOperation` holds everything a call needs (the zeep binding to build and read
envelopes with, the address, the SOAPAction, the accepted parameter names, the result shape), so
a call does no lookups in the WSDL. Which binding serves a WSDL is decided here too: the port
named in options, else the first SOAP port of the chosen service (SOAP 1.1 preferred unless
``soap_version`` says otherwise), else the first SOAP binding when the WSDL has no service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zeep
from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding, SoapBinding

from adapters.base import Operation
from adapters.erp.compiled import ReplyDecoder, RequestEncoder, compile_operation
from adapters.erp.loader import WsdlLoadError
from adapters.erp.results import ResultShape, result_shape

__all__ = ["SoapOperation", "is_read_only", "prepare_operations", "select_binding"]

_ENVELOPE_NS = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
_READ_VERBS = re.compile(r"(read|get|list|find|search|query|describe|retrieve)", re.IGNORECASE)


def is_read_only(name: str) -> bool:
    """True for names that start with a reading verb as a whole word: ``Read``, ``get_entry``,
    ``queryMore``, ``ReadMultiple``; not ``Reader`` or ``getaway``."""
    match = _READ_VERBS.match(name)
    if match is None:
        return False
    rest = name[match.end() :]
    return not rest or not rest[0].islower()


@dataclass(frozen=True, slots=True)
class SoapOperation:
    """One callable operation, ready to build requests for and read replies of."""

    name: str  # as the gateway calls it: "Read" or "SalesOrder.Read"
    wsdl_name: str  # as the WSDL names it: "Read"
    client: zeep.Client
    binding: SoapBinding
    address: str
    soap_action: str | None
    style: str  # "document" or "rpc"
    soap_version: str  # "1.1" or "1.2"
    envelope_ns: str
    params: tuple[str, ...]
    accepted: frozenset[str]  # params plus zeep's generated names (_value_1 ...) and _soapheaders
    read_only: bool
    result: ResultShape
    doc: str
    encoder: RequestEncoder | None = None  # None: zeep builds the requests
    decoder: ReplyDecoder | None = None  # None: zeep reads the replies

    @property
    def zeep_operation(self) -> Any:
        return self.binding._operations[self.wsdl_name]

    def describe(self) -> Operation:
        return Operation(self.name, params=self.params, read_only=self.read_only, doc=self.doc)


def select_binding(
    client: zeep.Client, *, service: str | None, port: str | None, soap_version: str
) -> tuple[SoapBinding, str | None]:
    """The binding to call and the WSDL's soap:address for it (None when it has none)."""
    wsdl = client.wsdl
    if service is not None and service not in wsdl.services:
        raise WsdlLoadError(
            f"{wsdl.location} has no service {service!r}; services: {', '.join(wsdl.services)}"
        )
    services = [wsdl.services[service]] if service else list(wsdl.services.values())
    ports = [(p, p.binding) for s in services for p in s.ports.values()]
    if port is not None:
        ports = [(p, b) for p, b in ports if p.name == port]
        if not ports:
            raise WsdlLoadError(f"{wsdl.location} has no port {port!r}")
    candidates = [((p.binding_options or {}).get("address"), b) for p, b in ports]
    if not candidates and service is None and port is None:
        candidates = [(None, b) for b in wsdl.bindings.values()]
    candidates = [(a, b) for a, b in candidates if isinstance(b, SoapBinding)]
    wanted = {"1.1": (Soap11Binding,), "1.2": (Soap12Binding,)}.get(soap_version)
    if wanted is not None:
        candidates = [(a, b) for a, b in candidates if isinstance(b, wanted)]
    else:  # auto: SOAP 1.1 first, the way most legacy servers are best tested
        candidates.sort(key=lambda pair: not isinstance(pair[1], Soap11Binding))
    if not candidates:
        version = "" if wanted is None else f" {soap_version}"
        raise WsdlLoadError(f"{wsdl.location} has no SOAP{version} binding to call")
    address, binding = candidates[0]
    return binding, address


def _input_names(message: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    body = getattr(message, "body", None)
    type_ = getattr(body, "type", None)
    if type_ is None or not hasattr(type_, "elements_nested"):
        return (), frozenset({"_soapheaders"})
    names = tuple(name for name, _ in type_.elements)
    generated = {name for name, _ in type_.elements_nested}
    attributes = {name for name, _ in type_.attributes}
    return names, frozenset({*names, *generated, *attributes, "_soapheaders"})


def _signature(operation: Any) -> str:
    try:
        return str(operation)  # zeep: "Read(No: xsd:string) -> SalesOrder: ns0:SalesOrder"
    except Exception:  # zeep cannot render every exotic type; the doc is only a help text
        return operation.name


def prepare_operations(
    client: zeep.Client,
    binding: SoapBinding,
    *,
    prefix: str,
    address: str,
    extra_read_only: frozenset[str],
    codec: str = "compiled",
) -> Iterator[SoapOperation]:
    """One :class:`SoapOperation` per operation of ``binding``, named ``prefix + name``;
    with ``codec="compiled"``, with the codecs compiled for it (see :mod:`.compiled`)."""
    version = "1.2" if isinstance(binding, Soap12Binding) else "1.1"
    for wsdl_name, operation in binding._operations.items():
        name = f"{prefix}{wsdl_name}"
        params, accepted = _input_names(operation.input)
        result = result_shape(operation.output)
        compiled = (
            compile_operation(client, binding, operation, address=address, result=result, name=name)
            if codec == "compiled"
            else None
        )
        yield SoapOperation(
            name=name,
            wsdl_name=wsdl_name,
            client=client,
            binding=binding,
            address=address,
            soap_action=operation.soapaction,
            style=operation.style,
            soap_version=version,
            envelope_ns=_ENVELOPE_NS[version],
            params=params,
            accepted=accepted,
            read_only=is_read_only(wsdl_name) or name in extra_read_only,
            result=result,
            doc=_signature(operation),
            encoder=compiled.encoder if compiled else None,
            decoder=compiled.decoder if compiled else None,
        )
