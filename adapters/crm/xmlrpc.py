"""The generic XML-RPC adapter: any XML-RPC server, one operation per method name.

The operation is the method name (``"pricing.quote"``), posted to ``endpoint + path``. XML-RPC
params are positional; the call's params mapping becomes them in one of three ways:

- ``{"args": [...]}``: the list is the params, as it is (no other key allowed);
- the operation has a signature in the options (``signatures: {pricing.quote: [sku, qty]}``):
  the named params in that order; trailing absent ones are left out (the server's defaults),
  one absent before a present one is sent as nil (needs ``allow_none``), unknown names refused;
- otherwise, a non-empty mapping is sent as one struct param (the style of APIs that take a
  single options struct, e.g. Bugzilla's) and an empty one as no params.

The result is the method's return value as plain data (see :mod:`adapters.crm.codec`). When the
backend has ``credentials.username`` and ``password``, calls carry HTTP basic authentication.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from adapters.base import AdapterContext, Health, Operation
from adapters.crm.client import XmlRpcClient
from adapters.crm.codec import DEFAULT_MAX_DEPTH
from adapters.crm.faults import generic_fault, translated_errors
from adapters.errors import AdapterError, InvalidRequest
from adapters.http import AiohttpTransport, HttpTransport

__all__ = ["XmlRpcAdapter", "XmlRpcOptions"]

_MiB = 1024 * 1024
_METHOD_NAME = re.compile(r"^[A-Za-z0-9_.:/]+$")  # the characters the spec allows


@dataclass(frozen=True, kw_only=True, slots=True)
class XmlRpcOptions:
    """The ``options:`` of a ``kind: xmlrpc`` backend."""

    path: str = field(
        default="/RPC2",
        metadata={"help": "path of the XML-RPC endpoint, appended to the endpoint URL ('' = none)"},
    )
    signatures: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict,
        metadata={"help": "method → its param names in order; when set, these are the operations"},
    )
    read_only: tuple[str, ...] = field(
        default=(), metadata={"help": "methods that change nothing (safe to retry)"}
    )
    health_method: str = field(
        default="system.listMethods",
        metadata={"help": "method called by health checks; any reply, even a fault, is healthy"},
    )
    max_reply_bytes: int = field(
        default=16 * _MiB, metadata={"help": "largest reply accepted, in bytes", "ge": 1024}
    )
    max_depth: int = field(
        default=DEFAULT_MAX_DEPTH,
        metadata={"help": "deepest XML element nesting accepted in a reply", "ge": 8, "le": 1024},
    )
    allow_none: bool = field(
        default=True, metadata={"help": "send None as <nil/> (an extension most servers accept)"}
    )

    def __post_init__(self) -> None:
        if self.path and not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        for name in (*self.signatures, *self.read_only, self.health_method):
            if not _METHOD_NAME.match(name):
                raise ValueError(f"{name!r} is not an XML-RPC method name")


class XmlRpcAdapter:
    """Calls methods of one XML-RPC endpoint; faults become :class:`BackendFault`."""

    kind: ClassVar[str] = "xmlrpc"
    Options: ClassVar[type] = XmlRpcOptions

    def __init__(
        self,
        context: AdapterContext,
        options: XmlRpcOptions,
        *,
        transport: HttpTransport | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self._transport = transport or AiohttpTransport.for_backend(
            context, max_reply_bytes=options.max_reply_bytes
        )
        headers = {}
        if context.username and context.password:
            token = base64.b64encode(f"{context.username}:{context.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._rpc = XmlRpcClient(
            self._transport,
            backend=context.backend,
            max_reply_bytes=options.max_reply_bytes,
            max_depth=options.max_depth,
            allow_none=options.allow_none,
            headers=headers,
        )
        self._url = (
            context.endpoint.rstrip("/") + options.path if options.path else (context.endpoint)
        )

    async def start(self) -> None:
        """Nothing to load: XML-RPC has no description to fetch, and the pool opens lazily."""

    def operations(self) -> Mapping[str, Operation] | None:
        if not self.options.signatures:
            return None
        return {
            name: Operation(name, params=tuple(names), read_only=name in self.options.read_only)
            for name, names in self.options.signatures.items()
        }

    async def call(
        self, operation: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        with self._translated(operation):
            if not _METHOD_NAME.match(operation):
                raise InvalidRequest(f"{operation!r} is not an XML-RPC method name")
            positional = self._positional(operation, params)
            return await self._rpc.call(self._url, operation, positional, timeout=timeout)

    async def health(self) -> Health:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            with self._translated(self.options.health_method):
                await self._rpc.call(self._url, self.options.health_method, [])
        except AdapterError as exc:
            if exc.backend_failure:  # no answer, or not XML-RPC
                return Health(False, str(exc), loop.time() - started)
            # any other answer (a fault, even "no such method") says the server is alive
        return Health(True, "answering", loop.time() - started)

    async def close(self) -> None:
        await self._transport.close()

    def _positional(self, operation: str, params: Mapping[str, Any]) -> list[Any]:
        if "args" in params:
            if len(params) != 1 or not isinstance(params["args"], list | tuple):
                raise InvalidRequest("args must be a list, and the only param")
            return list(params["args"])
        signature = self.options.signatures.get(operation)
        if signature is None:
            return [dict(params)] if params else []
        unknown = sorted(set(params) - set(signature))
        if unknown:
            raise InvalidRequest(
                f"unknown param(s) {', '.join(unknown)}; {operation} takes {', '.join(signature)}"
            )
        present = [i for i, name in enumerate(signature) if params.get(name) is not None]
        return [params.get(name) for name in signature[: present[-1] + 1]] if present else []

    def _translated(self, operation: str) -> AbstractContextManager[None]:
        return translated_errors(
            backend=self.context.backend,
            operation=operation,
            faults=generic_fault,
            secrets=(self.context.password, self.context.api_key),
        )
