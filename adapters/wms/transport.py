"""The TCP adapters' test seam: send one request payload, get its reply payload.

:class:`~adapters.wms.pool.ConnectionPool` is the real transport (framing, sockets, exact
timeouts); :class:`RecordedTransport` answers from a function, so unit tests drive the adapters'
session and error logic with recorded bytes and no sockets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["FrameTransport", "RecordedTransport"]


class FrameTransport(Protocol):
    async def request(self, payload: bytes) -> bytes:
        """Send ``payload`` as one frame and return the payload of the reply frame."""
        ...

    async def probe(self) -> None:
        """Open (and close) one connection: the backend accepts TCP connections."""
        ...

    async def close(self) -> None: ...


class RecordedTransport:
    """A transport that answers from ``handler(payload) -> reply payload``."""

    def __init__(self, handler: Callable[[bytes], Awaitable[bytes]]) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.probes = 0
        self.closed = False

    async def request(self, payload: bytes) -> bytes:
        self.requests.append(payload)
        return await self.handler(payload)

    async def probe(self) -> None:
        self.probes += 1

    async def close(self) -> None:
        self.closed = True
