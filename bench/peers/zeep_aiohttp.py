"""Peer: zeep for the XML, aiohttp for the HTTP, as a competent newcomer would write it.

``GET /api/v1/orders/{no}`` → ``SalesOrder.Read(No)`` on the ERP sandbox → the order as JSON.
The WSDL is loaded once at startup. Per request, ``client.create_message`` builds the envelope,
one pooled aiohttp session posts it, and ``binding.process_reply`` parses the answer: the
"naive zeep + aiohttp" anchor of DESIGN.md that veneer's SOAP path must beat four times over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import aiohttp
import zeep
from aiohttp import web
from lxml import etree
from zeep.wsdl.bindings.soap import SoapBinding

from bench.peers.nav import BINDING, DEFAULT_WSDL, order_json
from bench.peers.serving import peer_arguments, serve

SESSION = web.AppKey("session", aiohttp.ClientSession)


@dataclass(frozen=True)
class ZeepReply:
    """The parts of a ``requests.Response`` that ``binding.process_reply`` reads."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]
    encoding: str | None = None


def make_app(wsdl: Path, endpoint: str) -> web.Application:
    client = zeep.Client(str(wsdl))
    service = client.create_service(BINDING, endpoint)
    binding = cast(SoapBinding, client.wsdl.bindings[BINDING])
    read = binding.get("Read")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{read.soapaction}"'}

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as http:
            app[SESSION] = http
            yield

    async def get_order(request: web.Request) -> web.Response:
        envelope = client.create_message(service, "Read", No=request.match_info["no"])
        body = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
        async with request.app[SESSION].post(endpoint, data=body, headers=headers) as reply:
            content = await reply.read()
            answer = ZeepReply(reply.status, content, reply.headers, reply.charset)
        try:
            order = binding.process_reply(client, read, answer)
        except zeep.exceptions.Error as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.Response(body=order_json(order), content_type="application/json")

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_get("/api/v1/orders/{no}", get_order)
    return app


def main() -> None:
    parser = peer_arguments(__doc__)
    parser.add_argument("--endpoint", required=True, help="the ERP's SalesOrder page URL")
    parser.add_argument("--wsdl", type=Path, default=DEFAULT_WSDL)
    args = parser.parse_args()
    serve(make_app(args.wsdl, args.endpoint), args)


if __name__ == "__main__":
    main()
