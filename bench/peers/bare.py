"""The limit: a bare aiohttp handler answering the same JSON as the gateway's order route.

It answers pre-encoded bytes, so the only work per request is aiohttp's own: no routing table
of note, no middleware, no encoding. No aiohttp application handler can be faster in one
process (the gateway's hit lane answers before a handler runs: architecture decision 45).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bench.peers.serving import peer_arguments, serve


def make_app(body: bytes) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    return app


def main() -> None:
    parser = peer_arguments(__doc__)
    parser.add_argument("--body-file", type=Path, required=True, help="the JSON to answer")
    args = parser.parse_args()
    serve(make_app(args.body_file.read_bytes()), args)


if __name__ == "__main__":
    main()
