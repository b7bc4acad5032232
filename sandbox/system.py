"""What every sandbox system is, and the listener plumbing the two HTTP systems share.

A sandbox system is a real network server on 127.0.0.1 with a :class:`~sandbox.faults.FaultSwitch`.
``down`` must look like a crashed host, so the server really stops listening (clients get
connection refused) and drops the connections it holds; leaving ``down`` listens again on the
same port.
"""

from __future__ import annotations

import abc
import asyncio
from typing import Protocol, cast

from aiohttp import web

from sandbox.faults import Fault, FaultKind, FaultSwitch

__all__ = ["HttpSystem", "SandboxSystem"]


class SandboxSystem(Protocol):
    name: str
    switch: FaultSwitch

    @property
    def port(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def open_connections(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class HttpSystem(abc.ABC):
    """Serve an aiohttp application on 127.0.0.1 and honour the ``down`` fault.

    Subclasses build the application in :meth:`make_app` and ask ``self.switch.verdict()`` in
    their handlers for every other fault.
    """

    name = "http"

    def __init__(self, switch: FaultSwitch, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.switch = switch
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        switch.on_change(self._on_fault)

    @abc.abstractmethod
    def make_app(self) -> web.Application:
        """The system's aiohttp application (routes and handlers)."""

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def open_connections(self) -> int:
        """Client connections open right now (tests check pools with it)."""
        if self._runner is None or self._runner.server is None:
            return 0
        return len(self._runner.server.connections)

    async def start(self) -> None:
        # A request held by `hang` must not keep shutdown waiting for aiohttp's default 60 s.
        self._runner = web.AppRunner(
            self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await self._listen()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, self._port, reuse_address=True)
        await self._site.start()
        server = cast(asyncio.Server | None, self._site._server)
        if self._port == 0 and server is not None and server.sockets:
            self._port = server.sockets[0].getsockname()[1]

    async def _unlisten(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            # A crashed host takes its open keep-alive connections with it.
            for protocol in list(self._runner.server.connections):
                protocol.force_close()
                if protocol.transport is not None:
                    protocol.transport.abort()

    async def _on_fault(self, old: Fault, new: Fault) -> None:
        if self._runner is None:
            return
        if new.kind is FaultKind.DOWN and old.kind is not FaultKind.DOWN:
            await self._unlisten()
        elif old.kind is FaultKind.DOWN and new.kind is not FaultKind.DOWN:
            await self._listen()
