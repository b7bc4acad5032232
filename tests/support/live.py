"""The sandbox and the gateway running on their own event loop in a thread, on free ports.

For tools that make blocking HTTP calls (schemathesis, generated clients): they cannot share the
test's event loop with the servers they call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from facade.server import start_gateway
from facade.settings import load_settings
from sandbox.runner import Sandbox, SandboxPorts
from tests.support.environment import sandbox_env


@dataclass
class LiveGateway:
    url: str
    sandbox: Sandbox
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: object) -> object:
        """Run a coroutine on the servers' loop (e.g. to flip a sandbox fault) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)  # type: ignore[arg-type]


@contextmanager
def live_gateway(
    config: Path, data_dir: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[LiveGateway]:
    loop = asyncio.new_event_loop()
    ready: dict[str, object] = {}
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        sandbox = Sandbox(SandboxPorts.ephemeral())
        await sandbox.start()
        environ = sandbox_env(sandbox, data_dir)
        settings = load_settings(config, environ={**environ, **(env or {})})
        runner, url = await start_gateway(settings, port=0)
        ready.update(url=url, sandbox=sandbox)
        started.set()
        await stop.wait()
        await runner.cleanup()
        await sandbox.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(timeout=30):
        raise RuntimeError("the live gateway did not start within 30 s")
    try:
        yield LiveGateway(str(ready["url"]), ready["sandbox"], loop)  # type: ignore[arg-type]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        loop.close()
