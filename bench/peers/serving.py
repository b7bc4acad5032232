"""How every peer takes its port and serves: one argument parser, one ``run_app`` call."""

from __future__ import annotations

import argparse

from aiohttp import web

__all__ = ["peer_arguments", "serve"]


def peer_arguments(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    return parser


def serve(app: web.Application, port: int) -> None:
    """Serve until SIGTERM/SIGINT; no access log, as the gateway runs without one."""
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
