"""How the contract suite reaches each adapter kind: a live server, a factory, and known calls."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Adapter, AdapterContext
from adapters.errors import AdapterError, NotFound
from adapters.registry import AdapterRegistry
from sandbox.crm import CrmSandbox
from sandbox.dataset import World, build_world
from sandbox.erp import ErpSandbox
from sandbox.faults import FaultSwitch
from sandbox.system import SandboxSystem
from sandbox.wms import WmsSandbox


@functools.cache
def world() -> World:
    return build_world()


@dataclass(frozen=True)
class Call:
    operation: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Harness:
    """One adapter kind wired to a live system that can be made to fail."""

    kind: str
    system_factory: Callable[[], SandboxSystem]
    endpoint: Callable[[SandboxSystem], str]
    options: Mapping[str, Any]
    good: Call
    #: options that make the good call's reply exceed the adapter's size cap
    tiny_cap: Mapping[str, Any]
    credentials: Mapping[str, str] = field(default_factory=dict)
    #: a call the backend refuses for good, and the error class that must say so
    refused: tuple[Call, type[AdapterError]] | None = None

    def build(
        self, system: SandboxSystem, *, read: float = 5.0, connect: float = 1.0, **overrides: Any
    ) -> Adapter:
        cls = AdapterRegistry(discover=list).get(self.kind)
        context = AdapterContext(
            backend=f"contract-{self.kind}",
            endpoint=self.endpoint(system),
            connect_timeout=connect,
            read_timeout=read,
            base_dir="config",
            **self.credentials,
        )
        return cls(context, cls.Options(**{**self.options, **overrides}))  # type: ignore[call-arg]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SandboxSystem]:
        system = self.system_factory()
        await system.start()
        try:
            yield system
        finally:
            await system.stop()


HARNESSES = [
    Harness(
        kind="soap",
        system_factory=lambda: ErpSandbox(world(), FaultSwitch("erp")),
        endpoint=lambda s: f"{s.url}/WS/CRONUS/Page",
        options={
            "services": {"SalesOrder": "wsdl/nav-salesorder.wsdl", "Item": "wsdl/nav-item.wsdl"}
        },
        good=Call("Item.Read", {"No": "1000-GR"}),
        tiny_cap={"max_reply_bytes": 200},
        refused=(
            Call("SalesOrder.Create", {"SalesOrder": {"Sell_to_Customer_No": "C99999"}}),
            AdapterError,
        ),
    ),
    Harness(
        kind="odoo",
        system_factory=lambda: CrmSandbox(world(), FaultSwitch("crm")),
        endpoint=lambda s: s.url,
        options={"database": "sandbox"},
        credentials={"username": "admin", "api_key": "sandbox-api-key-0001"},
        good=Call("res.partner.read", {"ids": [7], "fields": ["name"]}),
        tiny_cap={"max_reply_bytes": 100},
        refused=(Call("res.partner.write", {"ids": [999999], "vals": {"name": "x"}}), NotFound),
    ),
    Harness(
        kind="xmlrpc",
        system_factory=lambda: CrmSandbox(world(), FaultSwitch("crm")),
        endpoint=lambda s: s.url,
        options={"path": "/xmlrpc/2/common"},
        good=Call("version", {}),
        tiny_cap={"max_reply_bytes": 100},
    ),
    Harness(
        kind="fishbowl",
        system_factory=lambda: WmsSandbox(world(), FaultSwitch("wms", supports_sessions=True)),
        endpoint=lambda s: s.url,
        options={"app_id": 54321},
        credentials={"username": "admin", "password": "admin"},
        good=Call("InvQty", {"PartNum": "1000-GR"}),
        tiny_cap={"max_frame": 260},  # the login request fits, the stock reply does not
        refused=(Call("InvQty", {"PartNum": "NO-SUCH-PART"}), NotFound),
    ),
    Harness(
        kind="framed-tcp",
        system_factory=lambda: WmsSandbox(world(), FaultSwitch("wms", supports_sessions=True)),
        endpoint=lambda s: s.url,
        options={
            "framing": "length-prefix",
            "signed": True,
            "codec": "json",
            "operation_field": None,
        },
        good=Call(
            "login",
            {
                "FbiJson": {
                    "Ticket": {"Key": ""},
                    "FbiMsgsRq": {
                        "LoginRq": {
                            "IAID": 54321,
                            "IAName": "veneer",
                            "IADescription": "contract",
                            "UserName": "admin",
                            "UserPassword": "admin",
                        }
                    },
                }
            },
        ),
        tiny_cap={"max_frame": 240},  # the login request fits, the login reply does not
    ),
]
