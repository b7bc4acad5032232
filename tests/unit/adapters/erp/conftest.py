"""Fixtures for the SOAP adapter's unit tests: the sandbox's NAV WSDLs and a scripted wire.

The adapter is driven through its transport seam: :class:`Wire` records every request and
answers with the next recorded reply, so no socket is opened and nothing sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.http import HttpReply, RecordedTransport

CONFIG_DIR = Path(__file__).resolve().parents[4] / "config"
ENDPOINT = "http://erp.test:8081/WS/CRONUS/Page"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SALES_NS = "urn:microsoft-dynamics-schemas/page/salesorder"
XML = {"Content-Type": "text/xml; charset=utf-8"}


def envelope(body: str) -> bytes:
    """A reply envelope written the way NAV writes it."""
    return f'<Soap:Envelope xmlns:Soap="{SOAP_ENV}"><Soap:Body>{body}</Soap:Body></Soap:Envelope>'.encode()


def fault(code: str, message: str, detail: str | None = None) -> bytes:
    """A NAV-style SOAP 1.1 fault."""
    detail = message if detail is None else detail
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><s:Fault>'
        f"<faultcode>s:{code}</faultcode>"
        f'<faultstring xml:lang="en-US">{message}</faultstring>'
        f'<detail><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">{detail}'
        "</string></detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


@dataclass
class Wire:
    """Replies to give, in order, and the requests the adapter sent."""

    replies: list[HttpReply] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport = RecordedTransport(self._answer)

    def reply(
        self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.replies.append(HttpReply(status, body, dict(XML if headers is None else headers)))

    async def _answer(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpReply:
        return self.replies.pop(0)

    @property
    def sent(self) -> tuple[str, str, bytes, Mapping[str, str]]:
        return self.transport.requests[-1]


def make_adapter(wire: Wire, **options: object) -> SoapAdapter:
    context = AdapterContext(
        backend="erp",
        endpoint=ENDPOINT,
        connect_timeout=0.5,
        read_timeout=1.5,
        username="WEBUSER",
        password="s3cret-Pa55",
        base_dir=str(CONFIG_DIR),
    )
    if "wsdl" not in options and "services" not in options:
        options["services"] = {
            "SalesOrder": "wsdl/nav-salesorder.wsdl",
            "Item": "wsdl/nav-item.wsdl",
        }
    return SoapAdapter(context, SoapOptions(**options), transport=wire.transport)  # type: ignore[arg-type]


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
async def erp(wire: Wire) -> AsyncIterator[SoapAdapter]:
    adapter = make_adapter(wire)
    await adapter.start()
    yield adapter
    await adapter.close()
