"""How every peer takes its port and serves: one argument parser, one ``run_app`` call."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

__all__ = ["peer_arguments", "serve"]


def peer_arguments(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop (default: asyncio's own, as web.run_app starts it)",
    )
    return parser


def serve(app: web.Application, args: argparse.Namespace) -> None:
    """Serve until SIGTERM/SIGINT; no access log, as the gateway runs without one."""
    loop = None
    if args.loop == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, loop=loop)
