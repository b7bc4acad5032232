"""The CRM sandbox: an Odoo 17 server speaking the external API over XML-RPC.

Routes (``POST`` only, as in Odoo):

- ``/xmlrpc/2/common``, ``/xmlrpc/2/object``, ``/xmlrpc/2/db``: integer fault codes;
- ``/xmlrpc/common``, ``/xmlrpc/object``, ``/xmlrpc/db``: the older string fault codes.

Faults from the switch, per request, after the body is read:

- ``error``: HTTP 502 with nginx's ``text/html`` "502 Bad Gateway" page, as when the Odoo workers
  behind the proxy crashed; the call is not executed;
- ``garbage``: HTTP 200 ``text/xml`` with a methodResponse cut off mid-record; the call is not
  executed;
- ``hang`` and ``slow:<ms>`` hold the answer; ``down`` is the listener's (see ``HttpSystem``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from sandbox.crm.errors import ApplicationError, OdooError
from sandbox.crm.models import Clock
from sandbox.crm.registry import Registry
from sandbox.crm.services import Services
from sandbox.crm.users import DEFAULT_USERS, CrmUser, Directory
from sandbox.crm.wire import (
    BAD_GATEWAY_PAGE,
    MAX_REQUEST_BYTES,
    TRUNCATED_RESPONSE,
    parse_call,
    render_fault,
    render_result,
)
from sandbox.dataset import World
from sandbox.faults import FaultSwitch, Verdict
from sandbox.system import HttpSystem

__all__ = ["CrmSandbox"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CrmSandbox(HttpSystem):
    """An Odoo-like CRM holding the world's customers (``res.partner``) and leads (``crm.lead``).

    ``deny_with_fault`` picks how ``authenticate`` refuses bad credentials: fault 3 (newer Odoo,
    the default) or ``False`` (Odoo 17 and older). ``clock`` stamps ``create_date`` and
    ``write_date`` (it must return aware datetimes, or naive ones in UTC).
    """

    name = "crm"

    def __init__(
        self,
        world: World,
        switch: FaultSwitch,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        database: str = "sandbox",
        users: Sequence[CrmUser] = DEFAULT_USERS,
        deny_with_fault: bool = True,
        clock: Clock = _utc_now,
    ) -> None:
        super().__init__(switch, host=host, port=port)
        self.database = database
        self.directory = Directory(users)
        self.registry = Registry(world, self.directory.users, clock)
        self.services = Services(
            database, self.registry, self.directory, deny_with_fault=deny_with_fault
        )

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/xmlrpc/2/{service}", self._serve_int_codes)
        app.router.add_post("/xmlrpc/{service}", self._serve_string_codes)
        return app

    async def _serve_int_codes(self, request: web.Request) -> web.Response:
        return await self._serve(request, string_codes=False)

    async def _serve_string_codes(self, request: web.Request) -> web.Response:
        return await self._serve(request, string_codes=True)

    async def _serve(self, request: web.Request, *, string_codes: bool) -> web.Response:
        body = await request.read()
        verdict = await self.switch.verdict()
        if verdict is Verdict.ERROR:
            return web.Response(
                status=502, body=BAD_GATEWAY_PAGE, content_type="text/html", headers=_NGINX
            )
        if verdict is Verdict.GARBAGE:
            return _xml(TRUNCATED_RESPONSE)
        return _xml(self.answer(request.match_info["service"], body, string_codes=string_codes))

    def answer(self, service: str, body: bytes, *, string_codes: bool = False) -> bytes:
        """The XML-RPC answer to one request body; Odoo answers faults with HTTP 200 too."""
        try:
            method, params = parse_call(body)
            result: Any = self.services.dispatch(service, method, params)
            return render_result(result)
        except OdooError as exc:
            error = exc
        except Exception as exc:  # as Odoo does: any other error is fault 1 with its traceback
            error = ApplicationError(type(exc).__name__, str(exc))
        return render_fault(error.to_legacy_fault() if string_codes else error.to_fault())


_NGINX = {"Server": "nginx"}


def _xml(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="text/xml", charset="utf-8")
