"""The ``framed-tcp`` kind: request/reply over any framing and payload codec, configured in YAML.

For a TCP service no built-in adapter speaks, an integrator picks the framing (length prefix,
delimiter, STX/ETX with checksum, MLLP, fixed length) and the payload (JSON, XML, text); a call
sends one frame and returns the decoded reply frame. What a call sends, per codec:

- ``json``: ``{operation_field: operation, **params}``, or ``params`` as they are when
  ``operation_field`` is null. The reply is the parsed JSON value.
- ``xml``: ``<operation>params as elements</operation>``: the root element is the operation
  name. The reply is ``{root_tag: tree}`` (see :mod:`adapters.wms.xmltree`).
- ``text``: ``params["text"]`` as it is (HL7 over MLLP, a line protocol). The reply is
  ``{"text": ...}``.

With ``error_field`` set, a JSON object reply (or the XML root's tree) holding that key with a
non-empty value is a :class:`~adapters.errors.BackendFault` whose ``code`` is that value. No
session, no retries: those belong to the protocol-specific kinds and the resilience layer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from adapters.base import AdapterContext, Health, Operation
from adapters.errors import BackendFault, InvalidRequest
from adapters.wms.errors import WIRE_ERRORS, translate
from adapters.wms.options import FramedTcpOptions, frame_codec, payload_codec
from adapters.wms.pool import ConnectionPool, parse_endpoint
from adapters.wms.transport import FrameTransport

__all__ = ["FramedTcpAdapter"]


class FramedTcpAdapter:
    kind: ClassVar[str] = "framed-tcp"
    #: call() ends within its ``timeout``, login and re-login included (see adapters.base)
    bounds_calls: ClassVar[bool] = True
    Options: ClassVar[type] = FramedTcpOptions

    def __init__(
        self,
        context: AdapterContext,
        options: FramedTcpOptions,
        *,
        transport: FrameTransport | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self._payload = payload_codec(options)
        self._address = parse_endpoint(context.endpoint)
        self._transport = transport
        read_only = set(options.read_only_operations)
        self._operations: Mapping[str, Operation] | None = (
            MappingProxyType(
                {name: Operation(name, read_only=name in read_only) for name in options.operations}
            )
            if options.operations
            else None
        )

    @property
    def transport(self) -> FrameTransport:
        if self._transport is None:
            host, port = self._address
            self._transport = ConnectionPool(
                host=host,
                port=port,
                codec=frame_codec(self.options),
                connect_timeout=self.context.connect_timeout,
                read_timeout=self.context.read_timeout,
                size=self.options.pool_size,
            )
        return self._transport

    async def start(self) -> None:
        _ = self.transport  # connections open on first use

    def operations(self) -> Mapping[str, Operation] | None:
        return self._operations

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> Any:
        backend = self.context.backend
        if self._operations is not None and operation not in self._operations:
            raise InvalidRequest(
                f"unknown operation {operation!r}", backend=backend, operation=operation
            )
        if not isinstance(params, Mapping):
            raise InvalidRequest("params must be a mapping", backend=backend, operation=operation)
        try:
            async with asyncio.timeout(timeout):
                payload = self._payload.encode(self._request(operation, params))
                reply = self._payload.decode(await self.transport.request(payload))
        except WIRE_ERRORS as exc:
            raise translate(exc, backend=backend, operation=operation, deadline=timeout) from exc
        return self._result(reply, operation)

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            await self.transport.probe()
        except WIRE_ERRORS as exc:
            error = translate(exc, backend=self.context.backend, operation="health")
            return Health(False, str(error), time.perf_counter() - started)
        return Health(True, "accepts connections", time.perf_counter() - started)

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.close()

    def _request(self, operation: str, params: Mapping[str, Any]) -> Any:
        options = self.options
        if options.codec == "text":
            text = params.get("text")
            if not isinstance(text, str):
                raise InvalidRequest(
                    "the text codec sends params['text'], a string",
                    backend=self.context.backend,
                    operation=operation,
                )
            return text
        if options.codec == "xml":
            return {operation: dict(params)}
        if options.operation_field is None:
            return dict(params)
        return {options.operation_field: operation, **params}

    def _result(self, reply: Any, operation: str) -> Any:
        if self.options.codec == "text":
            return {"text": reply}
        field = self.options.error_field
        if field is not None:
            tree = next(iter(reply.values()), None) if self.options.codec == "xml" else reply
            code = tree.get(field) if isinstance(tree, dict) else None
            if code not in (None, "", False, 0):
                raise BackendFault(
                    f"the backend reported {field}={code!r}",
                    backend=self.context.backend,
                    operation=operation,
                    code=code if isinstance(code, str | int) else str(code),
                )
        return reply
