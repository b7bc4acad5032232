"""The sandbox and the gateway of one chaos test, as real processes on free ports.

Both start in parallel (the gateway contacts no backend while starting), are polled for readiness
with a deadline, and are stopped together: SIGTERM, then SIGKILL. The gateway runs the chaos copy
of the shipped configuration (``tests/chaos/config.py``) on a SQLite store in the test's tmp dir,
trusting the suite's credentials (``tests/chaos/credentials.py``); it can be SIGKILLed and
replaced by a new process on the same port and store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.config import ChaosTimings
from tests.chaos.credentials import gateway_env
from tests.chaos.processes import ManagedProcess, free_port

__all__ = ["ChaosStack", "StackPorts"]


@dataclass(frozen=True)
class StackPorts:
    gateway: int = field(default_factory=free_port)
    erp: int = field(default_factory=free_port)
    crm: int = field(default_factory=free_port)
    wms: int = field(default_factory=free_port)
    control: int = field(default_factory=free_port)


@dataclass
class ChaosStack:
    """The running sandbox and gateway of one test, and how to reach and restart them."""

    timings: ChaosTimings
    config: Path
    store: Path
    log_dir: Path
    ports: StackPorts = field(default_factory=StackPorts)
    sandbox: ManagedProcess | None = None
    #: every gateway process this test started, the current one last
    gateways: list[ManagedProcess] = field(default_factory=list)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.control}"

    @property
    def sales_order_url(self) -> str:
        """The ERP's SalesOrder page service, for reading its records directly."""
        return f"http://127.0.0.1:{self.ports.erp}/WS/CRONUS/Page/SalesOrder"

    @property
    def gateway(self) -> ManagedProcess:
        return self.gateways[-1]

    def start(self, attempts: int = 3) -> None:
        """Start both; retry on fresh ports if another process took one between pick and bind."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return
            except RuntimeError as exc:
                if "address already in use" not in str(exc) or attempt == attempts:
                    raise
                self.stop()
                self.sandbox, self.gateways, self.ports = None, [], StackPorts()

    def _start_once(self) -> None:
        self.sandbox = ManagedProcess.start(
            "sandbox",
            [
                "sandbox",
                f"--erp-port={self.ports.erp}",
                f"--crm-port={self.ports.crm}",
                f"--wms-port={self.ports.wms}",
                f"--control-port={self.ports.control}",
            ],
            log_dir=self.log_dir,
        )
        self._spawn_gateway()  # it contacts no backend while starting: no need to wait
        self.sandbox.wait_until_serving(f"{self.control_url}/faults")
        self.gateway.wait_until_serving(f"{self.gateway_url}/healthz")

    def kill_gateway(self) -> None:
        """SIGKILL the gateway: nothing it has not made durable survives."""
        self.gateway.kill_hard()

    def start_new_gateway(self) -> None:
        """A new gateway process on the same port, configuration and store."""
        self.gateway.stop()
        self._spawn_gateway()
        self.gateway.wait_until_serving(f"{self.gateway_url}/healthz")

    def stop(self) -> None:
        """Stop every process this test started, all at once (SIGTERM, then SIGKILL)."""
        processes = [*self.gateways, *([self.sandbox] if self.sandbox else [])]
        for process in processes:
            process.terminate()
        for process in processes:
            process.reap()

    def logs(self) -> str:
        processes = [*self.gateways, *([self.sandbox] if self.sandbox else [])]
        return "\n".join(f"----- {p.name} (pid {p.pid}) -----\n{p.log_tail(60)}" for p in processes)

    def _spawn_gateway(self) -> None:
        name = f"gateway-{len(self.gateways) + 1}"
        env = {
            "VENEER_ERP_URL": f"http://127.0.0.1:{self.ports.erp}/WS/CRONUS/Page",
            "VENEER_CRM_URL": f"http://127.0.0.1:{self.ports.crm}",
            "VENEER_WMS_URL": f"tcp://127.0.0.1:{self.ports.wms}",
            "VENEER_STORE_URL": f"sqlite:///{self.store}",
            **gateway_env(),
        }
        self.gateways.append(
            ManagedProcess.start(
                name,
                ["serve", "--config", str(self.config), "--port", str(self.ports.gateway)],
                log_dir=self.log_dir,
                env=env,
            )
        )
