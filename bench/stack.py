"""The processes under test: the sandbox, the gateways and the peers, each started on first use.

Every one is a real process on 127.0.0.1 with an ephemeral port. The gateways are started with
``veneer serve`` exactly as an operator would, pointed at the sandbox by the documented
``VENEER_*`` environment variables, each with its own SQLite store in the run's directory:

- ``gateway-cached``: the shipped config/gateway.yaml, untouched (cached GET, cold GETs);
- ``gateway``: the uncached copy from :mod:`bench.configs` (every uncached scenario, breaker);
- ``gateway-w1`` / ``gateway-w2``: the shipped config under ``--workers 1`` / ``--workers 2``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.configs import DEFAULT_CONFIG, write_uncached_config
from bench.control import SandboxControl
from bench.credentials import RATE_LIMIT_ENV, get
from bench.procs import Child, Children, StartupError, descendants, free_port
from bench.scenarios import ORDER_PATH

__all__ = ["GATEWAYS", "Stack", "missing_capabilities", "veneer_command"]

GATEWAYS = ("gateway-cached", "gateway", "gateway-w1", "gateway-w2")
STARTUP_TIMEOUT_S = 90.0
PEER_MODULES = {"bare-uvloop": "bare"}  # a peer started with other arguments than its name's


def veneer_command() -> list[str]:
    """The ``veneer`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("veneer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "facade.cli"]


def missing_capabilities() -> dict[str, str]:
    """Gateway capabilities a scenario may require → why they are unavailable (absent: fine)."""
    help_text = subprocess.run(
        [*veneer_command(), "serve", "--help"], capture_output=True, text=True, check=False
    ).stdout
    missing: dict[str, str] = {}
    if "--workers" not in help_text:
        missing["workers"] = "`veneer serve` has no --workers option yet"
    return missing


@dataclass(frozen=True)
class SandboxPorts:
    erp: int
    crm: int
    wms: int
    control: int


class Stack:
    """Starts each service once, on demand, and knows its base URL."""

    def __init__(self, children: Children, workdir: Path) -> None:
        self.children = children
        self.workdir = workdir
        self.started: dict[str, Child] = {}
        self._urls: dict[str, str] = {}
        self._ports: SandboxPorts | None = None
        self._failed: dict[str, StartupError] = {}  # a service that failed once is not retried

    def pids(self) -> list[int]:
        """Every live process the stack started, workers included (for bench.cpu)."""
        return [pid for c in self.started.values() for pid in (c.pid, *descendants(c.pid))]

    def parties(self, service: str) -> dict[str, list[int]]:
        """The live processes of ``service`` (as "target") and of the sandbox, workers included."""
        named = {"target": service, "sandbox": "sandbox"}
        return {
            party: [child.pid, *descendants(child.pid)]
            for party, name in named.items()
            if (child := self.started.get(name)) is not None
            and (party == "target" or name != service)
        }

    def url(self, service: str) -> str:
        if service not in self._urls:
            self._once(service, lambda: self._start(service))
        return self._urls[service]

    @property
    def sandbox(self) -> SandboxPorts:
        if self._ports is None:
            self._once("sandbox", self._start_sandbox)
        assert self._ports is not None
        return self._ports

    def _once(self, service: str, start: Callable[[], None]) -> None:
        if service in self._failed:
            raise self._failed[service]
        try:
            start()
        except (StartupError, OSError) as exc:
            error = exc if isinstance(exc, StartupError) else StartupError(f"{service}: {exc}")
            self._failed[service] = error
            raise error from exc

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(f"http://127.0.0.1:{self.sandbox.control}")

    def erp_page(self) -> str:
        return f"http://127.0.0.1:{self.sandbox.erp}/WS/CRONUS/Page/SalesOrder"

    def _start(self, service: str) -> None:
        if service in GATEWAYS:
            self._start_gateway(service)
            return
        starters = {
            "bare": self._body_args,
            "bare-uvloop": lambda: [*self._body_args(), "--loop", "uvloop"],
            "inlined": self._body_args,
            "zeep-executor": lambda: ["--endpoint", self.erp_page()],
            "zeep-aiohttp": lambda: ["--endpoint", self.erp_page()],
            "raw-http": lambda: [
                *("--erp", self.erp_page()),
                *("--crm", f"http://127.0.0.1:{self.sandbox.crm}"),
            ],
            "raw-wms": lambda: ["--wms", f"tcp://127.0.0.1:{self.sandbox.wms}"],
        }
        extra = starters[service]()
        port = free_port()
        module = f"bench.peers.{PEER_MODULES.get(service, service).replace('-', '_')}"
        child = self.children.start(
            service, [sys.executable, "-m", module, "--port", str(port), *extra]
        )
        self._ready(service, child, f"http://127.0.0.1:{port}")

    def _ready(self, service: str, child: Child, base: str, probe: str = "/") -> None:
        child.wait_http(base + probe, STARTUP_TIMEOUT_S)
        self.started[service] = child
        self._urls[service] = base

    def _start_sandbox(self) -> None:
        ports = SandboxPorts(free_port(), free_port(), free_port(), free_port())
        child = self.children.start(
            "sandbox",
            [
                *veneer_command(),
                "sandbox",
                *("--erp-port", str(ports.erp), "--crm-port", str(ports.crm)),
                *("--wms-port", str(ports.wms), "--control-port", str(ports.control)),
            ],
        )
        child.wait_http(f"http://127.0.0.1:{ports.control}/faults", STARTUP_TIMEOUT_S)
        self.started["sandbox"] = child
        self._ports = ports

    def _start_gateway(self, service: str) -> None:
        ports = self.sandbox
        if service == "gateway":
            config = write_uncached_config(self._directory("config-uncached"))
        else:
            config = DEFAULT_CONFIG
        workers = {"gateway-w1": ["--workers", "1"], "gateway-w2": ["--workers", "2"]}
        port = free_port()
        env = {
            "VENEER_HOST": "127.0.0.1",
            "VENEER_ERP_URL": f"http://127.0.0.1:{ports.erp}/WS/CRONUS/Page",
            "VENEER_CRM_URL": f"http://127.0.0.1:{ports.crm}",
            "VENEER_WMS_URL": f"tcp://127.0.0.1:{ports.wms}",
            "VENEER_STORE_URL": f"sqlite:///{self._directory(service)}/veneer.db",
            **RATE_LIMIT_ENV,
        }
        argv = [*veneer_command(), "serve", "--config", str(config), "--port", str(port)]
        child = self.children.start(service, argv + workers.get(service, []), env)
        self._ready(service, child, f"http://127.0.0.1:{port}", "/healthz")

    def _body_args(self) -> list[str]:
        """The bare and inlined peers answer the very JSON the gateway answers for the order."""
        path = self.workdir / "order.json"
        if not path.exists():
            status, body = get(self.url("gateway-cached") + ORDER_PATH)
            if status != 200:
                raise StartupError(
                    f"the gateway answered {status} for the peers' JSON: {body[:200]!r}"
                )
            path.write_bytes(body)
        return ["--body-file", str(path)]

    def _directory(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path
