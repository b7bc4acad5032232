"""The ERP's own records, read the way any SOAP client of it would: ``ReadMultiple``.

"Delivered exactly once" is a claim about the ERP, not about the gateway's bookkeeping, so the
outbox tests count orders here, straight from the system of record, bypassing the gateway and
its cache entirely.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from lxml import etree

__all__ = ["ErpOrder", "orders_of_customer"]

_NS = "urn:microsoft-dynamics-schemas/page/salesorder"
_ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:so="{ns}">
  <soap:Body>
    <so:ReadMultiple>
      <so:filter><so:Field>Sell_to_Customer_No</so:Field><so:Criteria>{customer}</so:Criteria></so:filter>
      <so:setSize>0</so:setSize>
    </so:ReadMultiple>
  </soap:Body>
</soap:Envelope>"""


@dataclass(frozen=True)
class ErpOrder:
    no: str
    customer_no: str
    external_document_no: str


async def orders_of_customer(
    session: aiohttp.ClientSession, sales_order_url: str, customer: str
) -> list[ErpOrder]:
    """Every sales order the ERP holds for ``customer`` (setSize 0: all of them)."""
    body = _ENVELOPE.format(ns=_NS, customer=customer).encode()
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f"{_NS}:ReadMultiple",
    }
    async with session.post(sales_order_url, data=body, headers=headers) as reply:
        text = await reply.read()
        assert reply.status == 200, f"ReadMultiple failed: {reply.status} {text[:300]!r}"
    root = etree.fromstring(text)
    return [
        ErpOrder(
            no=_text(record, "No"),
            customer_no=_text(record, "Sell_to_Customer_No"),
            external_document_no=_text(record, "External_Document_No"),
        )
        for record in root.iter(f"{{{_NS}}}SalesOrder")
    ]


def _text(record: etree._Element, name: str) -> str:
    found = record.find(f"{{{_NS}}}{name}")
    return found.text or "" if found is not None else ""
