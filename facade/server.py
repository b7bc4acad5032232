"""Run the gateway, the sandbox, or both (the demo) until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
from collections.abc import Awaitable, Callable
from typing import cast

import structlog
from aiohttp import web

from facade.app import RELOADER, RUNTIME, create_app
from facade.connection import GatewayRunner
from facade.eventloop import loop_name
from facade.logs import ACCESS_LINGER_S, configure_logging
from facade.runtime import Runtime
from facade.settings import Settings
from facade.workers import SupervisorLink, WorkerInbox

__all__ = ["listen_for_reloads", "run_demo", "run_gateway", "run_sandbox", "start_gateway"]

log = structlog.get_logger("veneer")

#: Conservative limits for what a client may send before any handler runs: a request line
#: (method + URL) and each header line at most 8 KiB (room for a JWT), at most 64 headers.
#: Larger ones are refused by aiohttp's parser with 400/431 and never buffered.
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 8190
MAX_HEADERS = 64


async def start_gateway(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> tuple[web.AppRunner, str]:
    """Start serving; returns the runner (for cleanup) and the base URL actually bound.

    Backends are opened first: a configuration only they can find fault with raises
    ConfigError here, before any port opens.
    """
    runtime = await Runtime.open(settings)
    runner = GatewayRunner(
        create_app(runtime),
        access_log=None,
        handle_signals=False,
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_FIELD_SIZE,
        max_headers=MAX_HEADERS,
    )
    await runner.setup()
    host = host or settings.listen.host
    site = web.TCPSite(
        runner,
        host,
        settings.listen.port if port is None else port,
        reuse_address=True,
        reuse_port=reuse_port or None,
    )
    await site.start()
    # Everything built so far (parsed WSDLs, compiled codecs and routes, imported modules) lives
    # as long as the process: keep it out of the collector's full passes, which would
    # otherwise walk it all every time and stall every request in flight (bench/NOTES.md).
    gc.collect()
    gc.freeze()
    server = cast(asyncio.Server | None, site._server)
    bound = (
        server.sockets[0].getsockname()[1] if server and server.sockets else settings.listen.port
    )
    return runner, f"http://{host}:{bound}"


def listen_for_reloads(runner: web.AppRunner) -> None:
    """Start a reload on SIGHUP (as ``POST /ops/reload`` does) and, in a worker of ``serve
    --workers N``, on every reload another worker passes on; the log says how each went.

    Both are passed on to the other workers once applied. A worker also tells its supervisor
    which file it serves, and stops if the supervisor goes away (``facade.workers``).
    """
    reloader = runner.app[RELOADER]
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    async def reload(actor: str, reason: str, passed_on: str | None) -> None:
        try:
            await reloader.reload(actor=actor, reason=reason, propagate=True, passed_on=passed_on)
        except Exception:
            log.exception("configuration reload failed")

    def start(actor: str, reason: str = "", passed_on: str | None = None) -> None:
        task = loop.create_task(reload(actor, reason, passed_on))
        running.add(task)
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGHUP, start, "signal:SIGHUP")
    supervisor = SupervisorLink.from_environment()
    if supervisor is not None:
        reloader.ask_other_workers = supervisor.ask_to_reload_others
        supervisor.announce(runner.app[RUNTIME].settings.source_digest or "")
    inbox = WorkerInbox.from_environment()
    if inbox is not None:
        inbox.listen(
            lambda notice: start(
                f"worker:{notice.pid}", "passed on by the supervisor", notice.digest
            ),
            on_orphaned=_stop_orphaned_worker,
        )


def _stop_orphaned_worker() -> None:
    """The supervisor is gone: stop as on SIGTERM. Left running, this worker would hold the port
    with a configuration nothing reloads, beside the workers of a restarted supervisor."""
    log.error("the supervisor is gone: this worker stops")
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_on_signals() -> asyncio.Event:
    """An event SIGINT or SIGTERM sets, from now on (not the default action: dying mid-start)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(*parts: Callable[[], Awaitable[Callable[[], Awaitable[None]]]]) -> None:
    """Start each part (which returns its stopper), wait for a signal, stop them in reverse.

    The signals are caught before the first part starts: one that arrives while they start
    stops the gateway cleanly once they have.
    """
    signalled = _stop_on_signals()
    stoppers: list[Callable[[], Awaitable[None]]] = []
    try:
        for start in parts:
            stoppers.append(await start())
        await signalled.wait()
    finally:
        for stop in reversed(stoppers):
            await stop()
        log.info("stopped")


async def run_gateway(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> None:
    configure_logging(
        settings.logging.level, settings.logging.format, access_linger_s=ACCESS_LINGER_S
    )

    async def gateway() -> Callable[[], Awaitable[None]]:
        runner, url = await start_gateway(settings, host=host, port=port, reuse_port=reuse_port)
        listen_for_reloads(runner)
        log.info("gateway listening", url=url, config=str(settings.source), loop=loop_name())
        warn_demo_credentials(settings)
        return runner.cleanup

    await _run(gateway)


async def run_sandbox(args: argparse.Namespace) -> None:
    from sandbox.runner import Sandbox, SandboxPorts

    configure_logging()
    ports = SandboxPorts(
        erp=args.erp_port, crm=args.crm_port, wms=args.wms_port, control=args.control_port
    )
    sandbox = Sandbox(ports, host=args.host)

    async def start() -> Callable[[], Awaitable[None]]:
        await sandbox.start()
        print(_sandbox_banner(sandbox.urls()), flush=True)
        return sandbox.stop

    await _run(start)


async def run_demo(settings: Settings) -> None:
    from sandbox.runner import Sandbox

    configure_logging(
        settings.logging.level, settings.logging.format, access_linger_s=ACCESS_LINGER_S
    )
    sandbox = Sandbox()

    async def start_sandbox() -> Callable[[], Awaitable[None]]:
        await sandbox.start()
        return sandbox.stop

    async def gateway() -> Callable[[], Awaitable[None]]:
        runner, url = await start_gateway(settings)
        listen_for_reloads(runner)
        print(_demo_banner(url, settings, sandbox.urls()), flush=True)
        print(_credentials_banner(settings), flush=True)
        return runner.cleanup

    await _run(start_sandbox, gateway)


def warn_demo_credentials(settings: Settings) -> None:
    """Say, at every start, which public demo credentials this gateway still trusts."""
    from facade.security import demo_warnings

    for warning in demo_warnings(settings):
        log.warning("demo credential in use", detail=warning)


def _credentials_banner(settings: Settings) -> str:
    """The demo's credentials, printed and written to <data_dir>/demo.env for `. .veneer/demo.env`."""
    from facade.security import AccessTable, demo_credentials

    credentials = demo_credentials(settings, AccessTable.from_settings(settings).required_scopes())
    exports = credentials.exports()
    if not exports:
        return "No demo credentials in this configuration: bring your own token or API key."
    env_file = (settings.base_dir / settings.store.data_dir).resolve() / "demo.env"
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("\n".join(exports) + "\n", encoding="utf-8")
    env_file.chmod(0o600)
    lines = [
        "Demo credentials (public: never trust them outside the sandbox); paste, or source:",
        "",
        *(f"  {line}" for line in exports),
        f"  . {env_file}",
        "",
    ]
    if credentials.token:
        lines.append(
            "  TOKEN      a JWT (HS256, 24 h, subject demo-user) with every scope the routes ask for"
        )
    if credentials.api_key:
        scopes = " ".join(credentials.api_key_scopes) or "none"
        lines.append(f"  API_KEY    client {credentials.api_key_client!r}, scopes: {scopes}")
    if credentials.ops_token:
        lines.append(
            "  OPS_TOKEN  the ops admin token (Authorization: Bearer on /ops and /metrics)"
        )
    lines.append("")
    return "\n".join(lines)


def _sandbox_banner(urls: dict[str, str]) -> str:
    return "\n".join(
        [
            "veneer sandbox: three legacy systems of one seeded company",
            f"  ERP  (SOAP, Dynamics NAV style)   {urls['erp']}?wsdl",
            f"                                    {urls['erp_items']}?wsdl",
            f"  CRM  (XML-RPC, Odoo dialect)      {urls['crm']}/common  and  /object",
            f"  WMS  (Fishbowl TCP, 4-byte frames) {urls['wms']}",
            f"  Fault control API                 {urls['control']}",
            "  Inject a fault:  veneer sandbox fault erp down   (modes: down, hang, slow:<ms>,",
            "                   error_rate:<0..1>, garbage, drop_session, reset)",
        ]
    )


def _demo_banner(gateway: str, settings: Settings, sandbox_urls: dict[str, str]) -> str:
    lines = [
        "",
        "veneer is running (Ctrl-C stops everything).",
        "",
        "Gateway",
        f"  health            {gateway}/healthz",
    ]
    for key in settings.routes:
        method, _, path = key.partition(" ")
        lines.append(f"  {method:<6} {gateway}{path}")
    lines += ["", _sandbox_banner(sandbox_urls), ""]
    return "\n".join(lines)
