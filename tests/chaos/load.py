"""A bounded concurrent load: N clients asking the gateway, for at most a few seconds.

Bounded three ways, so a fault can never make a test hang: the run stops starting requests after
``duration_s`` (or ``max_requests``, or when ``stop_when`` says so), and every request has its own
client timeout, after which it is recorded as answered with status 0 ("no answer"). Every answer
is kept, with when it was sent and how long it took, for the tests to judge.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

__all__ = ["NO_ANSWER", "Reply", "drive", "fetch", "order_paths"]

#: Status recorded when the gateway did not answer within the client's own timeout.
NO_ANSWER = 0


@dataclass(frozen=True)
class Reply:
    """One answer the gateway gave (or did not give) to one request."""

    path: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    sent_at: float  # the event loop's clock
    elapsed_s: float

    @property
    def received_at(self) -> float:
        return self.sent_at + self.elapsed_s

    @property
    def is_problem(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("application/problem+json")

    def json(self) -> Any:
        return orjson.loads(self.body)

    def __str__(self) -> str:
        return (
            f"{self.status} {self.path} in {self.elapsed_s * 1000:.0f} ms"
            f" {dict(self.headers)!r} {self.body[:200]!r}"
        )


async def fetch(
    session: aiohttp.ClientSession,
    base_url: str,
    path: str,
    *,
    method: str = "GET",
    json: Any = None,
    timeout_s: float = 10.0,
) -> Reply:
    """One request; a client-side timeout or a broken connection is a Reply with status 0."""
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    try:
        async with session.request(
            method,
            base_url + path,
            json=json,
            timeout=aiohttp.ClientTimeout(total=timeout_s, ceil_threshold=0),
        ) as response:
            body = await response.read()
            return Reply(
                path, response.status, dict(response.headers), body, sent_at, loop.time() - sent_at
            )
    except (TimeoutError, aiohttp.ClientError) as exc:
        detail = f"{type(exc).__name__}: {exc}".encode()
        return Reply(path, NO_ANSWER, {}, detail, sent_at, loop.time() - sent_at)


@dataclass
class _Run:
    stop_at: float
    max_requests: int | None
    stop_when: Callable[[Reply], bool] | None
    started: int = 0
    stopped: bool = False
    replies: list[Reply] = field(default_factory=list)

    def may_start(self, now: float) -> bool:
        if self.stopped or now >= self.stop_at:
            return False
        return self.max_requests is None or self.started < self.max_requests


async def drive(
    session: aiohttp.ClientSession,
    base_url: str,
    paths: Iterator[str],
    *,
    concurrency: int = 20,
    duration_s: float = 3.0,
    max_requests: int | None = None,
    stop_when: Callable[[Reply], bool] | None = None,
    timeout_s: float = 10.0,
) -> list[Reply]:
    """``concurrency`` clients each sending the next path as soon as their last answer came.

    Returns every reply, in the order they arrived. Takes at most ``duration_s`` plus the
    slowest request in flight at the end (itself at most ``timeout_s``).
    """
    loop = asyncio.get_running_loop()
    run = _Run(loop.time() + duration_s, max_requests, stop_when)

    async def client() -> None:
        while run.may_start(loop.time()):
            run.started += 1
            reply = await fetch(session, base_url, next(paths), timeout_s=timeout_s)
            run.replies.append(reply)
            if run.stop_when is not None and run.stop_when(reply):
                run.stopped = True

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return run.replies


def order_paths(first: int, *, every: int = 0, cached: str = "") -> Iterator[str]:
    """``/api/v1/orders/SO-…`` paths no one has asked for yet, counting up from ``first``.

    With ``every`` and ``cached``, every ``every``-th path is ``cached`` instead: a warmed entry
    read in between cold ones.
    """
    numbers = itertools.count(first)
    for index in itertools.count(1):
        if every and index % every == 0:
            yield cached
        else:
            yield f"/api/v1/orders/SO-{next(numbers):06d}"
