"""The ``fishbowl`` kind: Fishbowl Inventory's legacy TCP API as plain async calls.

``call("InvQty", {"PartNum": "1000-GR"})`` sends an ``InvQtyRq`` in a 4-byte big-endian signed
length frame, over a pooled connection, carrying the backend's shared login ticket, and returns
the ``InvQtyRs`` tree without its status fields: ``{"InvQty": [...]}``. The adapter logs in on
first use (``LoginRq`` with the options' IAID/IAName/IADescription and the backend's
credentials); when the server says the session ended (1010/1163/1164) or no longer knows the
ticket (1130/1131) it logs in again and resends once, transparently. Status codes become errors
in :func:`adapters.wms.status.status_error`, wire failures in :func:`adapters.wms.errors.translate`.

Resending after a re-login is safe for writes too: a message refused for its ticket was never run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import structlog

from adapters.base import AdapterContext, Health, Operation
from adapters.errors import AccessDenied, AdapterError, InvalidRequest
from adapters.wms.catalog import fishbowl_operations
from adapters.wms.envelope import FbiReply, parse_reply, request_document
from adapters.wms.errors import WIRE_ERRORS, translate
from adapters.wms.framing import LengthPrefixCodec
from adapters.wms.options import FishbowlOptions
from adapters.wms.payload import JsonCodec, PayloadCodec, PayloadError, XmlCodec
from adapters.wms.pool import ConnectionPool, parse_endpoint
from adapters.wms.session import Ticket
from adapters.wms.status import RELOGIN, status_error
from adapters.wms.transport import FrameTransport

__all__ = ["DEFAULT_PORT", "FishbowlAdapter"]

DEFAULT_PORT = 28192
_LOGOUT_WITHIN = 2.0  # seconds close() waits for LogoutRq: shutdown must not hang on a backend
log = structlog.get_logger(__name__)


class FishbowlAdapter:
    kind: ClassVar[str] = "fishbowl"
    #: call() ends within its ``timeout``, login and re-login included (see adapters.base)
    bounds_calls: ClassVar[bool] = True
    Options: ClassVar[type] = FishbowlOptions

    def __init__(
        self,
        context: AdapterContext,
        options: FishbowlOptions,
        *,
        transport: FrameTransport | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self.ticket = Ticket()
        self._operations = fishbowl_operations(options.extra_operations, options.extra_read_only)
        self._payload: PayloadCodec = (
            XmlCodec(allow_doctype=options.allow_doctype, doctype=True)
            if options.dialect == "xml"
            else JsonCodec()
        )
        self._address = parse_endpoint(context.endpoint, DEFAULT_PORT)
        self._transport = transport

    @property
    def transport(self) -> FrameTransport:
        if self._transport is None:
            host, port = self._address
            self._transport = ConnectionPool(
                host=host,
                port=port,
                codec=LengthPrefixCodec(
                    length_bytes=4, signed=True, max_frame=self.options.max_frame
                ),
                connect_timeout=self.context.connect_timeout,
                read_timeout=self.context.read_timeout,
                size=self.options.pool_size,
            )
        return self._transport

    async def start(self) -> None:
        """Make the pool; connecting and logging in wait for the first call (a backend that is
        down at startup must not keep the gateway from starting)."""
        _ = self.transport

    def operations(self) -> Mapping[str, Operation]:
        return self._operations

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> Any:
        if operation not in self._operations:
            raise InvalidRequest(
                f"unknown Fishbowl operation {operation!r}",
                backend=self.context.backend,
                operation=operation,
            )
        if not isinstance(params, Mapping):
            raise InvalidRequest(
                "params must be a mapping", backend=self.context.backend, operation=operation
            )
        try:
            async with asyncio.timeout(timeout):
                return await self._call(operation, params)
        except WIRE_ERRORS as exc:
            raise translate(
                exc, backend=self.context.backend, operation=operation, deadline=timeout
            ) from exc

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.context.connect_timeout + self.context.read_timeout):
                await self.transport.probe()
                await self.ticket.get(lambda: self._login("health"))
        except AdapterError as exc:
            return Health(False, str(exc), time.perf_counter() - started)
        except WIRE_ERRORS as exc:
            error = translate(exc, backend=self.context.backend, operation="health")
            return Health(False, str(error), time.perf_counter() - started)
        return Health(True, "connected and logged in", time.perf_counter() - started)

    async def close(self) -> None:
        key = self.ticket.clear()
        if self._transport is None:
            return
        if key and self.options.logout_on_close:
            with contextlib.suppress(*WIRE_ERRORS):
                async with asyncio.timeout(min(self.context.read_timeout, _LOGOUT_WITHIN)):
                    await self._exchange(key, "Logout", {})
        await self._transport.close()

    async def _call(self, operation: str, params: Mapping[str, Any]) -> Any:
        key = self.ticket.key or await self.ticket.get(lambda: self._login(operation))
        reply = await self._exchange(key, operation, params)
        if reply.status in RELOGIN:
            log.info(
                "fishbowl.relogin", backend=self.context.backend, code=reply.status, op=operation
            )
            self.ticket.invalidate(key)
            key = await self.ticket.get(lambda: self._login(operation))
            reply = await self._exchange(key, operation, params)
        error = status_error(
            reply.status, reply.message, backend=self.context.backend, operation=operation
        )
        if error is not None:
            raise error
        return reply.body

    async def _login(self, operation: str) -> str:
        context = self.context
        if not context.username or context.password is None:
            raise AccessDenied(
                "Fishbowl needs a username and password in the backend's credentials",
                backend=context.backend,
                operation=operation,
            )
        options = self.options
        params = {
            "IAID": options.app_id,
            "IAName": options.app_name,
            "IADescription": options.app_description,
            "UserName": context.username,
            "UserPassword": self._password_form(context.password),
        }
        reply = await self._exchange("", "Login", params)
        error = status_error(
            reply.status,
            f"login refused: {reply.message}",
            backend=context.backend,
            operation=operation,
        )
        if error is not None:
            raise error
        if not reply.ticket_key:
            raise PayloadError("the login reply carries no ticket key")
        log.info("fishbowl.login", backend=context.backend)
        return reply.ticket_key

    def _password_form(self, password: str) -> str:
        if self.options.password_encoding == "plain":
            return password
        return base64.b64encode(
            hashlib.md5(password.encode(), usedforsecurity=False).digest()
        ).decode()

    async def _exchange(self, key: str, name: str, params: Mapping[str, Any]) -> FbiReply:
        dialect = self.options.dialect
        payload = self._payload.encode(request_document(dialect, key, name, params))
        reply = await self.transport.request(payload)
        return parse_reply(self._payload.decode(reply), dialect, name)
