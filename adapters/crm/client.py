"""One XML-RPC round trip over the shared HTTP transport: encode, POST, check, decode.

Both CRM adapters send their calls through :class:`XmlRpcClient`; what they add is what a call
means (Odoo's login and ``execute_kw``, or a generic server's positional params). Large replies
are parsed in a worker thread so that a 16 MB search result does not stall every other request
on the event loop for the second it takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.crm.codec import decode_reply, encode_call
from adapters.crm.faults import check_status
from adapters.http import HttpTransport

__all__ = ["Deadline", "XmlRpcClient"]

#: Replies larger than this are parsed off the event loop.
_PARSE_IN_THREAD_BYTES = 256 * 1024
_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"}


class XmlRpcClient:
    """Calls XML-RPC methods on one backend; raises codec, fault and transport errors untranslated.

    Translation into the adapter error tree happens once, in the adapter's
    :func:`~adapters.crm.faults.translated_errors` block around the whole call.
    """

    def __init__(
        self,
        transport: HttpTransport,
        *,
        backend: str,
        max_reply_bytes: int,
        max_depth: int,
        allow_none: bool,
        none_as_false: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._transport = transport
        self._backend = backend
        self._max_reply_bytes = max_reply_bytes
        self._max_depth = max_depth
        self._allow_none = allow_none
        self._none_as_false = none_as_false
        self._headers = {**_HEADERS, **(headers or {})}

    async def call(
        self, url: str, method: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> Any:
        """The value ``method(*params)`` returns at ``url``; ``timeout`` caps the round trip."""
        body = encode_call(
            method, params, allow_none=self._allow_none, none_as_false=self._none_as_false
        )
        reply = await self._transport.post(url, body, self._headers, timeout=timeout)
        check_status(reply, backend=self._backend, operation="")
        if len(reply.body) > _PARSE_IN_THREAD_BYTES:
            return await asyncio.to_thread(self._decode, reply.body)
        return self._decode(reply.body)

    def _decode(self, body: bytes) -> Any:
        return decode_reply(body, max_depth=self._max_depth, max_bytes=self._max_reply_bytes)


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a whole call (login, call, one re-login and resend) must be done, on the loop clock."""

    at: float | None

    @classmethod
    def after(cls, timeout: float | None) -> Deadline:
        if timeout is None:
            return cls(None)
        return cls(asyncio.get_running_loop().time() + timeout)

    def remaining(self) -> float | None:
        """Seconds left (None: no deadline); ``TimeoutError`` once it has passed."""
        if self.at is None:
            return None
        left = self.at - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError
        return left
