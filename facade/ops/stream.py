"""Server-sent events for the dashboard: the whole picture every second, transitions at once.

Each event is the complete state (breakers, their rolling stats, outbox depth, recent
transitions), so a page that reconnects after a network blip is right again with the first
message; nothing has to be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from facade.ops.api import Authorize, breaker_json
from facade.ops.stats import BackendStats
from facade.redaction import redact
from facade.runtime import Runtime
from resilience import BreakerTransition

__all__ = ["DashboardFeed"]

_PERIOD_S = 1.0


class DashboardFeed:
    def __init__(
        self,
        runtime: Runtime,
        stats: BackendStats,
        states_by_worker: Callable[[], dict[str, dict[str, str]]] = dict,
    ) -> None:
        self.runtime = runtime
        self.stats = stats
        #: breaker → worker slot → state, under ``serve --workers N`` (facade.worker_metrics)
        self.states_by_worker = states_by_worker
        self.transitions: deque[dict[str, Any]] = deque(maxlen=30)
        self._changed = asyncio.Event()
        runtime.events.subscribe(self._on_event, (BreakerTransition,))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, BreakerTransition):
            self.transitions.appendleft(
                {
                    "at": self.runtime.clock.now().isoformat().replace("+00:00", "Z"),
                    "breaker": event.breaker,
                    "from": event.before,
                    "to": event.after,
                    "reason": event.reason,
                }
            )
            self._changed.set()

    async def picture(self) -> dict[str, Any]:
        runtime = self.runtime
        runtime.breakers.tick()  # let forced states whose TTL ran out return to automatic
        by_worker = self.states_by_worker()
        backends = []
        for name, spec in runtime.settings.backends.items():
            breakers = [
                breaker_json(b.snapshot(), by_worker)
                for b in runtime.breakers.all()
                if b.name == name or b.name.startswith(f"{name}:")
            ]
            backends.append(
                {
                    "name": name,
                    "kind": spec.kind,
                    "description": spec.description,
                    "breakers": breakers,
                    "stats": self.stats.summary(name),
                }
            )
        outbox = await runtime.outbox.counts() if runtime.outbox is not None else {}
        return {
            "backends": backends,
            "outbox": outbox,
            "transitions": list(self.transitions),
            "at": runtime.clock.now().isoformat().replace("+00:00", "Z"),
        }

    def handler(self, authorize: Authorize) -> web.Handler:  # type: ignore[name-defined]
        async def events(request: web.Request) -> web.StreamResponse:
            await authorize(request, False)
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-store",
                    "X-Accel-Buffering": "no",
                }
            )
            await response.prepare(request)
            try:
                while True:
                    payload = orjson.dumps(redact(await self.picture()))
                    await response.write(b"event: picture\ndata: " + payload + b"\n\n")
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), _PERIOD_S)
            except ConnectionResetError:  # the page went away
                pass
            return response

        return events
