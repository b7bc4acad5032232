"""A small, real adapter kind for facade tests: a backend that lives in a dict.

It is what a third-party plugin looks like (kind, Options, the five methods), so tests can drive
the gateway without a legacy system when the wire is not what they are about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from adapters.base import AdapterContext, Health, Operation
from adapters.errors import AdapterError, NotFound


@dataclass(frozen=True, kw_only=True)
class MemoryOptions:
    records: Mapping[str, Any] = field(default_factory=dict, metadata={"help": "id → record"})
    latency: float = field(
        default=0.0, metadata={"unit": "seconds", "ge": 0, "help": "delay per call"}
    )


class MemoryAdapter:
    kind: ClassVar[str] = "memory"
    Options: ClassVar[type] = MemoryOptions

    def __init__(self, context: AdapterContext, options: MemoryOptions) -> None:
        self.context = context
        self.records = {str(k): v for k, v in options.records.items()}
        self.latency = options.latency
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: AdapterError | None = None
        #: when set, every call waits for it: a test holds a request in flight this way
        self.gate: asyncio.Event | None = None
        self.started = self.closed = False

    async def start(self) -> None:
        self.started = True

    def operations(self) -> Mapping[str, Operation]:
        return {
            "get": Operation("get", ("id",), read_only=True),
            "list": Operation("list", (), read_only=True),
            "put": Operation("put", ("id", "record")),
        }

    async def call(
        self, operation: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        self.calls.append((operation, dict(params)))
        if self.closed:
            raise RuntimeError("called after close()")
        if self.gate is not None:
            await self.gate.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.fail_with is not None:
            raise self.fail_with
        if operation == "get":
            return self.records.get(str(params.get("id")))
        if operation == "list":
            return list(self.records.values())
        if operation == "put":
            if str(params["id"]) not in self.records:
                raise NotFound("no such record", backend=self.context.backend, operation=operation)
            self.records[str(params["id"])] = params["record"]
            return params["record"]
        raise AssertionError(operation)

    async def health(self) -> Health:
        return Health(ok=True)

    async def close(self) -> None:
        self.closed = True
