"""100 concurrent identical cold GETs: how many backend calls does the gateway make for them?

DESIGN.md wants one (single-flight: concurrent misses for one key share one backend call). The
client connections are opened first (a round of ``/healthz``), so the GETs of the burst leave
together instead of trickling out behind 100 TCP handshakes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

import aiohttp

from bench.control import SandboxControl
from bench.credentials import client_headers
from bench.results import FAILED, ColdGets

__all__ = ["run_cold_gets"]


async def _burst(base: str, path: str, concurrency: int) -> tuple[Counter[str], float]:
    timeout = aiohttp.ClientTimeout(total=30, ceil_threshold=math.inf)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=client_headers()
    ) as session:
        start = asyncio.Event()

        async def get(url: str, wait: bool) -> str:
            if wait:
                await start.wait()
            try:
                async with session.get(url) as reply:
                    await reply.read()
                    return str(reply.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return type(exc).__name__

        await asyncio.gather(*(get(f"{base}/healthz", False) for _ in range(concurrency)))
        burst = [asyncio.create_task(get(base + path, True)) for _ in range(concurrency)]
        await asyncio.sleep(0.05)  # every task is parked on the event, connection in hand
        began = time.perf_counter()
        start.set()
        statuses = Counter(await asyncio.gather(*burst))
        return statuses, time.perf_counter() - began


def run_cold_gets(
    base: str, path: str, control: SandboxControl, system: str, concurrency: int
) -> ColdGets:
    """Fire the burst at ``base + path`` and count ``system``'s requests around it."""
    before = control.requests()[system]
    statuses, elapsed = asyncio.run(_burst(base, path, concurrency))
    calls = control.requests()[system] - before
    cold = ColdGets(
        concurrency=concurrency,
        backend_calls=calls,
        statuses=dict(statuses),
        elapsed_s=round(elapsed, 4),
        url=base + path,
    )
    if set(statuses) != {"200"}:  # a burst of 401s or 429s costs no backend call either
        cold.status, cold.note = FAILED, f"not every GET answered 200: {dict(statuses)}"
    return cold
