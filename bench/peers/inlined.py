"""Peer: the least a cached GET with veneer's duties can cost on aiohttp, as one handler.

The cached-GET target compares the gateway, every middleware on, with a bare handler that does
nothing but answer. This peer measures what lies between: a competent developer's cached facade
written as one straight-line function with no structure to speak of, doing per request what
veneer's cached GET does:

- a request id (a per-process prefix and a counter, as veneer's);
- API-key authentication: the key's SHA-256 looked up among known clients, and a scope check;
- a token bucket per caller and route, and the RateLimit headers;
- a dict cache keyed by route, path, query and caller, answered with veneer's header set
  (ETag, Cache-Control, Cache-Status, Age, the two RateLimit headers, X-Request-ID) and a 304
  for a matching If-None-Match;
- a per-route request counter and a JSON access line, written once per event-loop turn.

No configuration, reloads, CORS, compression, problem documents, header guard or metrics
families: a ratio measured against this is the cost of veneer's structure, and this one against
bare aiohttp is the cost of the duties themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import sys
import time
from pathlib import Path

import orjson
from aiohttp import web
from multidict import CIMultiDict

from bench.credentials import API_KEY_HEADER, client_headers
from bench.peers.serving import peer_arguments, serve

ROUTE = "GET /api/v1/orders/{no}"
SCOPE = "orders:read"
RATE, BURST = 1_000_000.0, 1_000_000.0  # the benchmark's raised limit (bench.credentials)
TTL_S = 15


class Inlined:
    def __init__(self, body: bytes, api_key: str) -> None:
        self.clients = {hashlib.sha256(api_key.encode()).digest(): ("api_key:demo", {SCOPE})}
        self.buckets: dict[str, tuple[float, float]] = {}
        self.cache: dict[tuple[str, str, str, str], tuple[bytes, CIMultiDict[str], float]] = {}
        self.body = body
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.prefix = os.urandom(6).hex()
        self.ids = itertools.count()
        self.counts: dict[tuple[str, int], int] = {}
        self.lines: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        request_id = f"{self.prefix}{next(self.ids):012x}"
        key = request.headers.get(API_KEY_HEADER, "")
        client = self.clients.get(hashlib.sha256(key.encode()).digest())
        if client is None or SCOPE not in client[1]:
            return self.finish(request, request_id, started, web.Response(status=401))
        caller = client[0]
        now = time.monotonic()
        tokens, stamp = self.buckets.get(caller, (BURST, now))
        tokens = min(BURST, tokens + (now - stamp) * RATE)
        if tokens < 1:
            return self.finish(request, request_id, started, web.Response(status=429))
        self.buckets[caller] = (tokens - 1, now)
        entry = self.cache.get((ROUTE, request.path, request.query_string, caller))
        if entry is None:  # the first request fills it: there is no backend behind this peer
            headers = CIMultiDict(
                {
                    "ETag": self.etag,
                    "Cache-Control": f"private, max-age={TTL_S}",
                    "Content-Type": "application/json",
                    "RateLimit-Policy": f'"default";q={BURST:.0f};w=1',
                }
            )
            entry = (self.body, headers, time.time())
            self.cache[(ROUTE, request.path, request.query_string, caller)] = entry
        body, stored, stored_at = entry
        age = int(time.time() - stored_at)
        headers = stored.copy()
        headers["Age"] = str(age)
        headers["Cache-Status"] = f"inlined; hit; ttl={TTL_S - age}"
        headers["RateLimit"] = f'"default";r={int(tokens - 1)};t=1'
        if request.headers.get("If-None-Match") == stored["ETag"]:
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(body=body, headers=headers)
        return self.finish(request, request_id, started, response)

    def finish(
        self, request: web.Request, request_id: str, started: float, response: web.Response
    ) -> web.Response:
        response.headers["X-Request-ID"] = request_id
        counted = (ROUTE, response.status)
        self.counts[counted] = self.counts.get(counted, 0) + 1
        if not self.lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self.lines.append(
            orjson.dumps(
                {
                    "event": "request",
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )
        )
        return response

    def flush(self) -> None:
        self.lines.append(b"")
        sys.stdout.buffer.write(b"\n".join(self.lines))
        self.lines.clear()


def make_app(body: bytes, api_key: str) -> web.Application:
    app = web.Application()
    app.router.add_get("/{tail:.*}", Inlined(body, api_key).handle)
    return app


def main() -> None:
    parser = peer_arguments(__doc__)
    parser.add_argument("--body-file", type=Path, required=True, help="the JSON to answer")
    args = parser.parse_args()
    serve(make_app(args.body_file.read_bytes(), client_headers()[API_KEY_HEADER]), args)


if __name__ == "__main__":
    main()
