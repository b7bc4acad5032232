"""Peer: a naive facade over zeep's synchronous client, run in the loop's default executor.

``GET /api/v1/orders/{no}`` → ``SalesOrder.Read(No)`` on the ERP sandbox → the order as JSON.
The WSDL is loaded once at startup; each request borrows an executor thread for the whole SOAP
call (requests for the HTTP, zeep for the XML), which is what most first attempts look like.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import zeep
from aiohttp import web

from bench.peers.nav import BINDING, DEFAULT_WSDL, order_json
from bench.peers.serving import peer_arguments, serve


def make_app(wsdl: Path, endpoint: str) -> web.Application:
    service = zeep.Client(str(wsdl)).create_service(BINDING, endpoint)

    async def get_order(request: web.Request) -> web.Response:
        read = functools.partial(service.Read, No=request.match_info["no"])
        try:
            order = await asyncio.get_running_loop().run_in_executor(None, read)
        except zeep.exceptions.Error as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.Response(body=order_json(order), content_type="application/json")

    app = web.Application()
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
