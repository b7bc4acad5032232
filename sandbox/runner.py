"""Start the three sandbox systems and the control API together."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.control import ControlApi
from sandbox.crm import CrmSandbox
from sandbox.dataset import build_world
from sandbox.erp import ErpSandbox
from sandbox.faults import FaultSwitch
from sandbox.system import SandboxSystem
from sandbox.wms import WmsSandbox

__all__ = ["WMS_PASSWORD", "WMS_USER", "Sandbox", "SandboxPorts"]

#: The sandbox WMS's login. Not "admin": a configured secret is masked wherever it appears in
#: logs and ops output, and a password that is also an everyday word would mask that word too.
WMS_USER = "admin"
WMS_PASSWORD = "fishbowl-sandbox-2026"


@dataclass(frozen=True)
class SandboxPorts:
    """Where the sandbox listens; 0 picks a free port (tests)."""

    erp: int = 8081
    crm: int = 8069
    wms: int = 28192
    control: int = 8090

    @classmethod
    def ephemeral(cls) -> SandboxPorts:
        return cls(erp=0, crm=0, wms=0, control=0)


class Sandbox:
    """The ERP, CRM and WMS of one seeded company, plus their fault-injection control API."""

    def __init__(
        self, ports: SandboxPorts | None = None, *, host: str = "127.0.0.1", seed: int = 20260105
    ) -> None:
        ports = ports or SandboxPorts()
        world = build_world(seed)
        self.erp = ErpSandbox(world, FaultSwitch("erp"), host=host, port=ports.erp)
        self.crm = CrmSandbox(world, FaultSwitch("crm"), host=host, port=ports.crm)
        self.wms = WmsSandbox(
            world,
            FaultSwitch("wms", supports_sessions=True),
            host=host,
            port=ports.wms,
            users={WMS_USER: WMS_PASSWORD},
        )
        self.systems: tuple[SandboxSystem, ...] = (self.erp, self.crm, self.wms)
        self.control = ControlApi(
            {s.name: s.switch for s in self.systems}, host=host, port=ports.control
        )

    async def start(self) -> None:
        started: list[SandboxSystem] = []
        try:
            for system in (*self.systems, self.control):
                await system.start()
                started.append(system)
        except BaseException:
            for system in reversed(started):
                await system.stop()
            raise

    async def stop(self) -> None:
        for system in (self.control, *reversed(self.systems)):
            await system.stop()

    def urls(self) -> dict[str, str]:
        return {
            "erp": f"{self.erp.url}/WS/CRONUS/Page/SalesOrder",
            "erp_items": f"{self.erp.url}/WS/CRONUS/Page/Item",
            "crm": f"{self.crm.url}/xmlrpc/2",
            "wms": self.wms.url,
            "control": f"{self.control.url}/faults",
        }
