"""The ``options:`` block of the ``soap`` kind: which WSDLs, where to send, how to read faults.

Two forms, one dataclass. A single WSDL names its operations as the WSDL does (``Read``)::

    options: {wsdl: wsdl/nav-salesorder.wsdl}

Several services behind one endpoint name theirs ``<service>.<operation>`` (``SalesOrder.Read``)::

    options:
      services:
        SalesOrder: wsdl/nav-salesorder.wsdl              # address: endpoint + "/SalesOrder"
        Item: {wsdl: wsdl/nav-item.wsdl, address: Item}   # relative to endpoint, or absolute

The address a request goes to is never the WSDL's ``soap:address`` unless asked for with
``address: wsdl``: published WSDLs usually name the machine they were generated on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ADDRESS_FROM_WSDL", "FaultRule", "ServiceOptions", "SoapOptions"]

#: The ``address`` value that means "use the WSDL's own soap:address location".
ADDRESS_FROM_WSDL = "wsdl"
_SERVICE_KEY = re.compile(r"[A-Za-z_][\w-]*")

FaultError = Literal["not_found", "conflict", "access_denied", "unavailable", "invalid", "fault"]


@dataclass(frozen=True, kw_only=True, slots=True)
class FaultRule:
    """Map SOAP faults whose text matches ``match`` to one kind of adapter error."""

    match: str = field(
        metadata={
            "help": "regular expression (case-insensitive) searched in faultcode, faultstring "
            "and detail text"
        }
    )
    error: FaultError = field(
        metadata={
            "help": "not_found, conflict, access_denied, unavailable (transient), "
            "invalid (bad request) or fault (permanent)"
        }
    )

    def __post_init__(self) -> None:
        try:
            re.compile(self.match)
        except re.error as exc:
            raise ValueError(f"fault rule match {self.match!r} is not a regex: {exc}") from None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceOptions:
    """One SOAP service: its WSDL and, optionally, where to send its requests."""

    wsdl: str = field(
        metadata={"help": "WSDL file (relative to the config file) or an http(s) URL"}
    )
    address: str | None = field(
        default=None,
        metadata={
            "help": "absolute URL, a path relative to the endpoint, or 'wsdl' for the WSDL's "
            "soap:address; default: endpoint (single form) or endpoint/<service> (services)"
        },
    )
    service: str | None = field(
        default=None, metadata={"help": "wsdl:service to use when the WSDL has several"}
    )
    port: str | None = field(
        default=None, metadata={"help": "wsdl:port to use when the service has several"}
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SoapOptions:
    """A SOAP 1.1/1.2 backend described by WSDL (document/literal or rpc/encoded)."""

    wsdl: str | None = field(
        default=None,
        metadata={
            "help": "single form: WSDL file (relative to the config file) or an http(s) URL "
            "fetched at startup and by each reload"
        },
    )
    address: str | None = field(
        default=None,
        metadata={"help": "single form: absolute URL, path relative to endpoint, or 'wsdl'"},
    )
    service: str | None = field(default=None, metadata={"help": "single form: wsdl:service to use"})
    port: str | None = field(default=None, metadata={"help": "single form: wsdl:port to use"})
    services: Mapping[str, str | ServiceOptions] = field(
        default_factory=dict,
        metadata={"help": "several services: name → WSDL, or {wsdl, address, service, port}"},
    )
    soap_version: Literal["auto", "1.1", "1.2"] = field(
        default="auto",
        metadata={"help": "which port to pick when a service offers both; auto prefers 1.1"},
    )
    schema_locations: Mapping[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "schema imports served from local files: URL or namespace → file "
            "(relative to the config file); nothing is fetched at run time"
        },
    )
    wsse: Literal["none", "username_token", "username_token_digest"] = field(
        default="none",
        metadata={"help": "WS-Security UsernameToken from the backend's username/password"},
    )
    http_auth: Literal["none", "basic"] = field(
        default="none",
        metadata={"help": "HTTP Basic authentication from the backend's username/password"},
    )
    max_reply_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata={"ge": 1024, "le": 1024 * 1024 * 1024, "help": "larger replies are refused"},
    )
    transient_server_faults: bool = field(
        default=False,
        metadata={"help": "treat soap:Server / Receiver faults as transient (retried)"},
    )
    fault_rules: tuple[FaultRule, ...] = field(
        default=(),
        metadata={"help": "fault text → error kind, tried before the built-in rules"},
    )
    default_fault_rules: bool = field(
        default=True,
        metadata={"help": "also apply the built-in rules (login, stale record, not found...)"},
    )
    read_only_operations: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "operations that change nothing, besides those named Read*/Get*/List*/"
            "Find*/Search*/Query*/Describe*/Retrieve*"
        },
    )
    strict: bool = field(
        default=True,
        metadata={"help": "replies must match the schema; false tolerates sloppy servers"},
    )
    codec: Literal["compiled", "zeep"] = field(
        default="compiled",
        metadata={
            "help": "compiled: document/literal operations build requests and read replies with "
            "codecs compiled from the WSDL at startup (several times faster; zeep still handles "
            "rpc/encoded, constructs the compiler does not cover, and any unusual call); "
            "zeep: zeep for everything (the reference behaviour)"
        },
    )

    def __post_init__(self) -> None:
        if bool(self.wsdl) == bool(self.services):
            raise ValueError("give either wsdl (one service) or services (several), not both")
        if not self.wsdl and (self.address or self.service or self.port):
            raise ValueError("address, service and port belong inside each entry of services")
        for key in self.services:
            if not _SERVICE_KEY.fullmatch(key):
                raise ValueError(f"services: {key!r} is not a service name (letters, digits, _)")

    def service_list(self) -> tuple[tuple[str, ServiceOptions], ...]:
        """Every service as ``(key, options)``; the single form's key is ``""``."""
        if self.wsdl:
            single = ServiceOptions(
                wsdl=self.wsdl, address=self.address, service=self.service, port=self.port
            )
            return (("", single),)
        return tuple(
            (key, ServiceOptions(wsdl=spec) if isinstance(spec, str) else spec)
            for key, spec in self.services.items()
        )
