"""The built-in load generator against a real local server, and the result arithmetic."""

from __future__ import annotations

import pytest
from aiohttp import web

from bench.drivers import wrk_result
from bench.loadgen import LoadResult, percentile, run_load


def test_percentile_is_nearest_rank() -> None:
    """p50 and p99 are latencies some request really had (no interpolation), 0 when empty."""
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) == 0.0
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, 0)


def test_wrk_summary_converts_to_the_same_result_shape() -> None:
    """wrk's microseconds and error counters become milliseconds, errors and non-2xx."""
    result = wrk_result(
        {"requests": 1000, "duration_us": 2_000_000, "connect": 1, "read": 2, "write": 0,
         "status": 5, "timeout": 3, "p50_us": 1500, "p99_us": 9000}
    )  # fmt: skip
    assert result == LoadResult(1000, 2.0, 1.5, 9.0, errors=6, non_2xx=5)
    assert result.rps == 500.0
    assert LoadResult.from_json(result.to_json()) == result


async def test_run_load_drives_a_real_server_for_the_given_duration(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    """Half a second of 8 connections: many requests, sane percentiles; non-2xx, marked bodies counted."""

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"ok": False}, status=503)

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    server = await aiohttp_server(app)

    good = await run_load(
        str(server.make_url("/ok")), connections=8, duration=0.5, marker='"ok": true'
    )
    bad = await run_load(str(server.make_url("/broken")), connections=2, duration=0.2)

    assert good.requests > 50 and good.errors == 0 and good.non_2xx == 0
    assert good.marked == good.requests and bad.marked == 0
    assert 0.45 <= good.duration_s < 1.5
    assert 0 < good.p50_ms <= good.p99_ms
    assert bad.requests > 0 and bad.non_2xx == bad.requests


async def test_run_load_counts_a_refused_connection_as_an_error() -> None:
    """No server at all: every attempt is an error, none an answer."""
    result = await run_load("http://127.0.0.1:9/", connections=1, duration=0.1)
    assert result.requests == 0 and result.errors > 0


def test_windows_combine_into_one_result_with_median_percentiles() -> None:
    """Counts and time add up over a scenario's windows; p50/p99 are the windows' medians."""
    windows = [
        LoadResult(requests=100, duration_s=2.5, p50_ms=1.0, p99_ms=9.0, errors=1),
        LoadResult(requests=300, duration_s=2.5, p50_ms=3.0, p99_ms=4.0, non_2xx=2),
        LoadResult(requests=200, duration_s=2.5, p50_ms=2.0, p99_ms=5.0, marked=7),
    ]
    combined = LoadResult.combined(windows)
    assert combined == LoadResult(
        requests=600, duration_s=7.5, p50_ms=2.0, p99_ms=5.0, errors=1, non_2xx=2, marked=7
    )
    assert combined.rps == 80.0
