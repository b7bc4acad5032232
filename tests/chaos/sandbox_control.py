"""Steering the sandbox from outside: set a fault, read a request counter, watch it move.

The counter (``GET /faults`` → ``requests``) counts every request a system received, so from
outside the gateway it is the one honest measure of how many backend calls the gateway made.
(A refused connection never reaches the system, so ``down`` leaves it where it was.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

__all__ = ["CounterSample", "CounterWatch", "SandboxControl"]


class SandboxControl:
    """The sandbox's fault-injection API, over the test's HTTP session."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def set_fault(self, system: str, mode: str) -> None:
        async with self.session.post(f"{self.url}/faults/{system}", json={"mode": mode}) as reply:
            text = await reply.text()
            assert reply.status == 200, f"setting {system} to {mode!r} failed: {text}"

    async def reset(self, system: str) -> None:
        await self.set_fault(system, "reset")

    async def requests(self, system: str) -> int:
        """How many requests ``system`` has received since the sandbox started."""
        async with self.session.get(f"{self.url}/faults/{system}") as reply:
            assert reply.status == 200, await reply.text()
            return int((await reply.json())["requests"])

    @contextlib.asynccontextmanager
    async def watch(self, system: str, *, every_s: float = 0.02) -> AsyncIterator[CounterWatch]:
        """Sample ``system``'s counter in the background while the block runs."""
        watch = CounterWatch()
        loop = asyncio.get_running_loop()

        async def sample() -> None:
            while True:
                started = loop.time()
                value = await self.requests(system)
                watch.samples.append(CounterSample(started, loop.time(), value))
                await asyncio.sleep(every_s)

        task = asyncio.create_task(sample())
        try:
            yield watch
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True)
class CounterSample:
    """The counter's value at some instant between ``asked_at`` and ``answered_at``."""

    asked_at: float
    answered_at: float
    value: int


@dataclass
class CounterWatch:
    samples: list[CounterSample] = field(default_factory=list)

    def answered_before(self, moment: float) -> list[CounterSample]:
        """Samples that certainly describe the counter before ``moment``."""
        return [s for s in self.samples if s.answered_at < moment]
