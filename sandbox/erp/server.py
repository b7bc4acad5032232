"""The sandbox ERP: NAV-style SOAP page services for sales orders and items over aiohttp.

``POST /WS/CRONUS/Page/SalesOrder`` and ``POST /WS/CRONUS/Page/Item`` take SOAP 1.1 requests;
``GET`` of either URL (with or without ``?wsdl``) returns its WSDL. Every request, WSDL included,
first asks the fault switch what to do: a transient error is what IIS/HTTP.sys says when NAV's
service tier is down (503, an HTML page), garbage is a 200 ``text/xml`` reply cut in half.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from sandbox.dataset import World
from sandbox.erp.pages import PageService, item_page, sales_order_page
from sandbox.erp.store import ErpStore
from sandbox.erp.wsdl import WsdlDocument
from sandbox.faults import FaultSwitch, Verdict
from sandbox.system import HttpSystem

__all__ = ["DEFAULT_WSDL_DIR", "ErpSandbox"]

DEFAULT_WSDL_DIR = Path(__file__).resolve().parents[2] / "config" / "wsdl"
PAGE_PATH = "/WS/CRONUS/Page/"
_WSDL_FILES = {"SalesOrder": "nav-salesorder.wsdl", "Item": "nav-item.wsdl"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SERVER = "Microsoft-HTTPAPI/2.0"
_XML = {"Content-Type": "text/xml; charset=utf-8", "Server": _SERVER}
_SERVICE_UNAVAILABLE = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    b"<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n"
    b'<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    b"<BODY><h2>Service Unavailable</h2>\r\n"
    b"<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n"
    b"</BODY></HTML>\r\n"
)


class ErpSandbox(HttpSystem):
    """A Dynamics NAV-like ERP serving the world's sales orders and items over SOAP 1.1."""

    name = "erp"

    def __init__(
        self,
        world: World,
        switch: FaultSwitch,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        wsdl_dir: Path = DEFAULT_WSDL_DIR,
    ) -> None:
        super().__init__(switch, host=host, port=port)
        self.store = ErpStore(world)
        self.pages: dict[str, PageService] = {
            page.name: page for page in (sales_order_page(self.store), item_page(self.store))
        }
        self._wsdls = {name: WsdlDocument(wsdl_dir / _WSDL_FILES[name]) for name in self.pages}
        self._held: set[asyncio.Task[object]] = set()

    async def stop(self) -> None:
        """Stop serving; requests held by ``hang`` are dropped now, not after aiohttp's grace."""
        for task in list(self._held):
            task.cancel()
        await super().stop()

    def page_url(self, page: str) -> str:
        """The endpoint of a page service, e.g. ``page_url("SalesOrder")``."""
        return f"{self.url}{PAGE_PATH}{page}"

    def wsdl_url(self, page: str) -> str:
        return f"{self.page_url(page)}?wsdl"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        for name in self.pages:
            app.router.add_post(PAGE_PATH + name, self._soap_handler(self.pages[name]))
            app.router.add_get(PAGE_PATH + name, self._wsdl_handler(name))
        return app

    def _soap_handler(self, page: PageService) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            verdict = await self._verdict()
            if verdict is Verdict.ERROR:
                return _service_unavailable()
            if request.content_type != "text/xml":
                return web.Response(
                    status=415,
                    text=f"Cannot process the message because the content type "
                    f"'{request.headers.get('Content-Type', '')}' was not the expected type "
                    "'text/xml; charset=utf-8'.",
                    headers={"Server": _SERVER},
                )
            status, reply = page.answer(request.headers.get("SOAPAction"), body)
            if verdict is Verdict.GARBAGE:
                return _garbage(reply)
            return web.Response(status=status, body=reply, headers=_XML)

        return handle

    def _wsdl_handler(self, name: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            verdict = await self._verdict()
            if verdict is Verdict.ERROR:
                return _service_unavailable()
            document = self._wsdls[name].render(self.page_url(name))
            if verdict is Verdict.GARBAGE:
                return _garbage(document)
            return web.Response(body=document, headers=_XML)

        return handle

    async def _verdict(self) -> Verdict:
        task = asyncio.current_task()
        assert task is not None
        self._held.add(task)
        try:
            return await self.switch.verdict()
        finally:
            self._held.discard(task)


def _service_unavailable() -> web.Response:
    return web.Response(
        status=503,
        body=_SERVICE_UNAVAILABLE,
        headers={"Content-Type": "text/html; charset=us-ascii", "Server": _SERVER},
    )


def _garbage(reply: bytes) -> web.Response:
    """A 200 whose XML stops halfway: the root element is never closed, so it cannot parse."""
    return web.Response(body=reply[: max(len(reply) // 2, 1)], headers=_XML)
