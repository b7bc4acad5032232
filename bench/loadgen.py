"""The built-in load generator, and the one result shape every load driver reports.

wrk is preferred (it is C and costs the target little CPU); when it is not installed this asyncio
generator does the same job: N keep-alive connections, each sending the next GET as soon as the
previous answer is read, for a fixed duration, recording every latency for p50/p99. It runs as its
own process (``python -m bench.loadgen URL``) so it never shares an event loop or a core's time
slice accounting with the target, and prints one JSON line that :meth:`LoadResult.from_json` reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

__all__ = ["LoadResult", "percentile", "run_load"]

RESULT_MARKER = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one bounded load run measured. Latencies are in milliseconds."""

    requests: int  # answers received (any status)
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int = 0  # connect/read/write errors and timeouts: no answer at all
    non_2xx: int = 0  # answers whose status was not 2xx/3xx
    marked: int = 0  # answers whose body held the run's marker (partial aggregated answers)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rps": round(self.rps, 1)}

    @classmethod
    def combined(cls, windows: Sequence[LoadResult]) -> LoadResult:
        """Several measured windows of one scenario as one: counts and time add up; p50 and p99
        are the median of the windows' (the answers themselves are not kept to pool)."""
        return cls(
            requests=sum(w.requests for w in windows),
            duration_s=round(sum(w.duration_s for w in windows), 3),
            p50_ms=statistics.median(w.p50_ms for w in windows),
            p99_ms=statistics.median(w.p99_ms for w in windows),
            errors=sum(w.errors for w in windows),
            non_2xx=sum(w.non_2xx for w in windows),
            marked=sum(w.marked for w in windows),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadResult:
        fields = ("requests", "duration_s", "p50_ms", "p99_ms", "errors", "non_2xx", "marked")
        return cls(**{name: data[name] for name in fields if name in data})


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of already sorted values; 0 if empty.

    Nearest rank, not interpolation: a p99 is then a latency some request really had.
    """
    if not sorted_values:
        return 0.0
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    rank = math.ceil(q / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


async def run_load(
    url: str,
    *,
    connections: int,
    duration: float,
    timeout: float = 5.0,
    marker: str = "",
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """GET ``url`` over ``connections`` concurrent keep-alive connections for ``duration`` s.

    With a ``marker``, answers whose body contains it are counted (``marked``).
    """
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    counts = {"errors": 0, "non_2xx": 0, "marked": 0}
    needle = marker.encode()
    deadline = loop.time() + duration
    client_timeout = aiohttp.ClientTimeout(total=timeout, ceil_threshold=math.inf)
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)

    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, headers=headers
    ) as session:

        async def one_connection() -> None:
            while loop.time() < deadline:
                started = time.perf_counter()
                try:
                    async with session.get(url) as reply:
                        body = await reply.read()
                        status = reply.status
                except (aiohttp.ClientError, TimeoutError):
                    counts["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if not 200 <= status < 400:
                    counts["non_2xx"] += 1
                if needle and needle in body:
                    counts["marked"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        elapsed = time.perf_counter() - started

    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        duration_s=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=counts["errors"],
        non_2xx=counts["non_2xx"],
        marked=counts["marked"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request, seconds")
    parser.add_argument("--marker", default="", help="count answers whose body contains this")
    parser.add_argument(
        "--header", action="append", default=[], help="'Name: value' sent with every request"
    )
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_load(
            args.url,
            connections=args.connections,
            duration=args.duration,
            timeout=args.timeout,
            marker=args.marker,
            headers=dict(line.split(": ", 1) for line in args.header),
        )
    )
    print(RESULT_MARKER + json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
