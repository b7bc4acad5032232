"""The fault-injection control API: flip a sandbox system's fault mode over HTTP.

``POST /faults/{system}`` with ``{"mode": "hang"}`` (or the mode as plain text) sets a mode;
``GET /faults`` shows every system's mode and request count; ``GET /faults/{system}`` one of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

from sandbox.faults import Fault, FaultError, FaultSwitch
from sandbox.system import HttpSystem

__all__ = ["ControlApi"]


class ControlApi(HttpSystem):
    """An HTTP API over the fault switches of the other systems (it never fails itself)."""

    name = "control"

    def __init__(
        self, switches: Mapping[str, FaultSwitch], *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(FaultSwitch("control"), host=host, port=port)
        self.switches = dict(switches)

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/faults", self._list)
        app.router.add_get("/faults/{system}", self._show)
        app.router.add_post("/faults/{system}", self._set)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({name: s.describe() for name, s in self.switches.items()})

    async def _show(self, request: web.Request) -> web.Response:
        switch = self._switch(request)
        return web.json_response(switch.describe())

    async def _set(self, request: web.Request) -> web.Response:
        switch = self._switch(request)
        text = await request.text()
        try:
            mode = json.loads(text).get("mode", "") if text.lstrip().startswith("{") else text
            await switch.set(Fault.parse(str(mode)))
        except (FaultError, json.JSONDecodeError, AttributeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(switch.describe())

    def _switch(self, request: web.Request) -> FaultSwitch:
        name = request.match_info["system"]
        if name not in self.switches:
            known = ", ".join(sorted(self.switches))
            raise web.HTTPNotFound(
                text=json.dumps({"error": f"no system {name!r}; known: {known}"}),
                content_type="application/json",
            )
        return self.switches[name]
