"""The ``veneer`` command line: serve, demo, sandbox, check-config, config-schema, hash-api-key."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from facade.settings import ConfigError, Settings, load_settings, settings_json_schema

__all__ = ["main"]

DEFAULT_CONFIG = Path("config/gateway.yaml")
EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `veneer openapi | head`: the reader left, which is fine
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="veneer",
        description="veneer: one clean REST/JSON API over SOAP, XML-RPC and proprietary TCP backends.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway", description="Run the gateway.")
    _config_argument(serve)
    serve.add_argument("--host", help="override listen.host")
    serve.add_argument("--port", type=int, help="override listen.port")
    serve.add_argument(
        "--workers", type=int, help="override listen.workers: processes sharing the port"
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser(
        "demo",
        help="run the sandbox and the gateway together, printing every URL",
        description="Start the three sandbox legacy systems and the gateway on the embedded default.",
    )
    _config_argument(demo)
    demo.set_defaults(handler=_demo)

    sandbox = commands.add_parser(
        "sandbox",
        help="run the simulated ERP, CRM and WMS, or steer their faults",
        description="Run the simulated legacy systems (ERP :8081, CRM :8069, WMS :28192, control :8090).",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    for name, port in (("erp", 8081), ("crm", 8069), ("wms", 28192), ("control", 8090)):
        sandbox.add_argument(f"--{name}-port", type=int, default=port, help=f"default {port}")
    sandbox.set_defaults(handler=_sandbox)
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    fault = sandbox_commands.add_parser(
        "fault",
        help="set a fault mode on a running sandbox system",
        description="Set a fault mode: down, hang, slow:<ms>, error_rate:<0..1>, garbage, "
        "drop_session (wms), reset.",
    )
    fault.add_argument("system", choices=("erp", "crm", "wms"))
    fault.add_argument(
        "mode", help="down | hang | slow:<ms> | error_rate:<0..1> | garbage | drop_session | reset"
    )
    fault.add_argument("--control", default="http://127.0.0.1:8090", help="control API base URL")
    fault.set_defaults(handler=_sandbox_fault)
    status = sandbox_commands.add_parser(
        "status", help="show every system's fault mode and request count"
    )
    status.add_argument("--control", default="http://127.0.0.1:8090", help="control API base URL")
    status.set_defaults(handler=_sandbox_status)

    check = commands.add_parser(
        "check-config",
        help="validate a configuration file and list every problem",
        description="Validate a configuration file; exits 2 and lists every error if it is invalid.",
    )
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG)
    check.set_defaults(handler=_check_config)

    openapi = commands.add_parser(
        "openapi",
        help="print the OpenAPI 3.1 document of the configured API",
        description="Print the OpenAPI 3.1 document generated from the configured routes.",
    )
    _config_argument(openapi)
    openapi.set_defaults(handler=_openapi)

    schema = commands.add_parser(
        "config-schema",
        help="print the JSON Schema of the configuration file (for editors)",
        description="Print the JSON Schema of the configuration file.",
    )
    schema.set_defaults(handler=_config_schema)

    hash_key = commands.add_parser(
        "hash-api-key",
        help="hash an API key (read on stdin) for auth.api_keys in the configuration",
        description="Read an API key on stdin and print the `hash:` line to put under "
        "auth.api_keys.clients.<name>. The configuration keeps only hashes; the key goes to "
        "the client and nowhere else.",
    )
    hash_key.add_argument(
        "--generate", action="store_true", help="make a new random key instead; print it too"
    )
    hash_key.set_defaults(handler=_hash_api_key)
    return parser


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"configuration file (default {DEFAULT_CONFIG})",
    )


def _load_or_report(path: Path) -> Settings | None:
    try:
        return load_settings(path)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    settings = _load_or_report(args.file)
    if settings is None or not asyncio.run(_check_backends(settings)):
        return EXIT_CONFIG
    print(f"{args.file}: ok ({len(settings.backends)} backends, {len(settings.routes)} routes)")
    return 0


async def _check_backends(settings: Settings) -> bool:
    """Bind adapter options, load WSDLs and JWKS files, check operations and mappings.

    Never contacts a backend (nor a JWKS URL).
    """
    from facade.backends import open_backends
    from facade.security.install import check_security

    try:
        check_security(settings)
        backends = await open_backends(settings)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return False
    await backends.close()
    return True


def _openapi(args: argparse.Namespace) -> int:
    from facade.openapi import build_openapi

    settings = _load_or_report(args.config)
    if settings is None:
        return EXIT_CONFIG
    print(json.dumps(build_openapi(settings), indent=2))
    return 0


def _config_schema(args: argparse.Namespace) -> int:
    print(json.dumps(settings_json_schema(), indent=2))
    return 0


def _hash_api_key(args: argparse.Namespace) -> int:
    from facade.security.apikeys import MIN_KEY_LENGTH, generate_api_key, hash_api_key

    if args.generate:
        key = generate_api_key()
        print(f"key: {key}")
    else:
        key = sys.stdin.readline().strip()
        if len(key) < MIN_KEY_LENGTH:
            print(
                f"need an API key of at least {MIN_KEY_LENGTH} characters on stdin "
                "(or --generate for a new one)",
                file=sys.stderr,
            )
            return 1
    print(f"hash: {hash_api_key(key)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from facade.server import run_gateway

    settings = _load_or_report(args.config)
    if settings is None:
        return EXIT_CONFIG
    workers = args.workers or settings.listen.workers
    if workers > 1:
        if not asyncio.run(_check_backends(settings)):  # fail here, not N times in the workers
            return EXIT_CONFIG
        from facade.logs import configure_logging
        from facade.workers import supervise

        configure_logging(settings.logging.level, settings.logging.format)
        host = args.host or settings.listen.host
        port = settings.listen.port if args.port is None else args.port
        return supervise(args.config, host, port, workers)
    return _run_served(
        settings, run_gateway(settings, host=args.host, port=args.port, reuse_port=args.reuse_port)
    )


def _run_served(settings: Settings, main: Coroutine[Any, Any, None]) -> int:
    """Run the gateway's ``main`` on the loop ``listen.loop`` names; a config error exits 2."""
    from facade.eventloop import LoopUnavailable, run

    try:
        run(main, settings.listen.loop)
    except LoopUnavailable as exc:
        issue = settings.issue(("listen", "loop"), str(exc), expected="auto or asyncio")
        print(ConfigError(settings.source, [issue]).report(), file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _demo(args: argparse.Namespace) -> int:
    from facade.server import run_demo

    settings = _load_or_report(args.config)
    if settings is None:
        return EXIT_CONFIG
    return _run_served(settings, run_demo(settings))


def _sandbox(args: argparse.Namespace) -> int:
    from facade.server import run_sandbox

    asyncio.run(run_sandbox(args))
    return 0


def _sandbox_fault(args: argparse.Namespace) -> int:
    body = json.dumps({"mode": args.mode}).encode()
    return _control_call(f"{args.control}/faults/{args.system}", body)


def _sandbox_status(args: argparse.Namespace) -> int:
    return _control_call(f"{args.control}/faults", None)


def _control_call(url: str, body: bytes | None) -> int:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            print(reply.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode() or str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot reach the sandbox control API at {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
