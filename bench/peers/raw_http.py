"""Peer: raw HTTP round trips to the sandbox ERP and CRM, with no XML work at all.

``GET /erp`` posts a fixed SOAP ``SalesOrder.Read`` envelope to the ERP; ``GET /crm`` posts a
fixed Odoo ``execute_kw`` ``res.partner.read`` to the CRM. Each returns the backend's reply
bytes as they came: the cost of the HTTP hop and the backend, the floor under veneer's SOAP and
XML-RPC routes. The CRM uid is fetched once at startup (``authenticate``), as any client must.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from bench.peers.serving import peer_arguments, serve

SESSION = web.AppKey("session", aiohttp.ClientSession)
CRM_READ = web.AppKey("crm_read", bytes)
POOL_SIZE = 64  # the HTTP adapters' default pool_size (adapters/http.py)

SOAP_READ = (
    b"<?xml version='1.0' encoding='utf-8'?>\n"
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap-env:Body><ns0:Read xmlns:ns0="urn:microsoft-dynamics-schemas/page/salesorder">'
    b"<ns0:No>SO-100001</ns0:No></ns0:Read></soap-env:Body></soap-env:Envelope>"
)
SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": '"urn:microsoft-dynamics-schemas/page/salesorder:Read"',
}
XML_HEADERS = {"Content-Type": "text/xml"}
CRM_DB, CRM_USER, CRM_KEY = "sandbox", "admin", "sandbox-api-key-0001"  # the sandbox's demo login
CUSTOMER_FIELDS = [
    *("name", "ref", "is_company", "email", "phone", "street", "city", "zip", "country_id"),
    *("vat", "write_date"),
]  # what the gateway's GET /api/v1/customers/{id} asks for


def xmlrpc_body(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, methodname=method, allow_none=True).encode()


async def crm_uid(http: aiohttp.ClientSession, crm: str) -> int:
    body = xmlrpc_body("authenticate", CRM_DB, CRM_USER, CRM_KEY, {})
    async with http.post(f"{crm}/xmlrpc/2/common", data=body, headers=XML_HEADERS) as reply:
        (uid,), _ = xmlrpc.client.loads(await reply.read())
    assert isinstance(uid, int), f"authenticate refused the sandbox's demo login: {uid!r}"
    return uid


async def forward(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> web.Response:
    async with http.post(url, data=body, headers=headers) as reply:
        content = await reply.read()
        return web.Response(status=reply.status, body=content, content_type="text/xml")


def make_app(erp: str, crm: str) -> web.Application:
    """``erp``: the SalesOrder page URL; ``crm``: the Odoo base URL."""

    async def session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=POOL_SIZE)
        async with aiohttp.ClientSession(connector=connector) as http:
            app[SESSION] = http
            uid = await crm_uid(http, crm)
            app[CRM_READ] = xmlrpc_body(
                "execute_kw", CRM_DB, uid, CRM_KEY, "res.partner", "read", [[7]],
                {"fields": CUSTOMER_FIELDS},
            )  # fmt: skip
            yield

    async def erp_read(request: web.Request) -> web.Response:
        return await forward(request.app[SESSION], erp, SOAP_READ, SOAP_HEADERS)

    async def crm_read(request: web.Request) -> web.Response:
        body = request.app[CRM_READ]
        return await forward(request.app[SESSION], f"{crm}/xmlrpc/2/object", body, XML_HEADERS)

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_get("/erp", erp_read)
    app.router.add_get("/crm", crm_read)
    return app


def main() -> None:
    parser = peer_arguments(__doc__)
    parser.add_argument("--erp", required=True, help="the ERP's SalesOrder page URL")
    parser.add_argument("--crm", required=True, help="the CRM's base URL")
    args = parser.parse_args()
    serve(make_app(args.erp, args.crm), args)


if __name__ == "__main__":
    main()
