"""``SoapAdapter``: SOAP backends described by WSDL, called over one pooled aiohttp client.

``start`` loads every WSDL from local files in a thread (zeep blocks), with imports served only
from the allowlist, and prepares each operation; it never contacts the backend, so the gateway
boots while a backend is down (a WSDL given as a URL is the one exception: fetched here).
It remembers a digest of every document it read (``sources``), local files and fetched URLs: a
reload that finds one of them changed starts a new adapter even though the backend's settings
are the same.
``call`` builds the envelope (with the operation's compiled codec, else zeep), posts it, and reads
the reply back into plain data the same way.
"""

from __future__ import annotations

import asyncio
import base64
import difflib
import functools
import os
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from zeep.wsse.username import UsernameToken

from adapters.base import AdapterContext, Health, Operation
from adapters.erp.envelope import build_request, parse_reply
from adapters.erp.faults import FaultPolicy, translate
from adapters.erp.loader import fetch_document, is_url, load_client
from adapters.erp.operations import SoapOperation, prepare_operations, select_binding
from adapters.erp.options import ADDRESS_FROM_WSDL, ServiceOptions, SoapOptions
from adapters.errors import AdapterError, InvalidRequest
from adapters.http import AiohttpTransport, HttpReply, HttpTransport, raise_for_unavailable
from adapters.sources import SourceFiles

__all__ = ["SoapAdapter"]

#: Replies larger than this are read into objects in a thread, not on the event loop.
_PARSE_IN_THREAD_BYTES = 512 * 1024


class SoapAdapter:
    """A SOAP 1.1/1.2 backend: document/literal or rpc/encoded, one WSDL or several."""

    kind: ClassVar[str] = "soap"
    Options: ClassVar[type] = SoapOptions

    def __init__(
        self,
        context: AdapterContext,
        options: SoapOptions,
        *,
        transport: HttpTransport | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self._policy = FaultPolicy.from_options(options)
        self._transport: HttpTransport = transport or AiohttpTransport.for_backend(
            context, max_reply_bytes=options.max_reply_bytes
        )
        self._operations: dict[str, SoapOperation] = {}
        self._described: Mapping[str, Operation] = MappingProxyType({})
        self._extra_headers: dict[str, str] = {}
        self._health_url = ""
        self._sources = SourceFiles()

    # -- startup ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._extra_headers = self._auth_headers()
        services = self.options.service_list()
        loaded = await asyncio.gather(
            *(asyncio.to_thread(self._load_service, key, spec) for key, spec in services)
        )
        operations = {op.name: op for ops, _ in loaded for op in ops}
        self._sources = SourceFiles()
        for _, sources in loaded:
            self._sources |= sources
        self._operations = operations
        self._described = MappingProxyType({n: op.describe() for n, op in operations.items()})
        self._health_url = next(iter(operations.values())).address if operations else ""

    def _auth_headers(self) -> dict[str, str]:
        needs_login = self.options.wsse != "none" or self.options.http_auth != "none"
        if needs_login and (not self.context.username or self.context.password is None):
            raise ValueError(
                f"backend {self.context.backend!r}: wsse/http_auth need credentials.username "
                "and credentials.password"
            )
        if self.options.http_auth == "basic":
            pair = f"{self.context.username}:{self.context.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def _load_service(
        self, key: str, spec: ServiceOptions
    ) -> tuple[list[SoapOperation], SourceFiles]:
        """Load one WSDL; its operations, and the documents it was read from. In a thread."""
        base = self.context.base_dir
        location = (
            spec.wsdl if is_url(spec.wsdl) else os.path.abspath(os.path.join(base, spec.wsdl))
        )
        client = load_client(
            location,
            schema_locations={
                k: os.path.join(base, v) for k, v in self.options.schema_locations.items()
            },
            strict=self.options.strict,
            timeout=(self.context.connect_timeout, self.context.read_timeout),
        )
        if self.options.wsse != "none":
            client.wsse = UsernameToken(
                self.context.username,
                self.context.password,
                use_digest=self.options.wsse == "username_token_digest",
            )
        binding, wsdl_address = select_binding(
            client, service=spec.service, port=spec.port, soap_version=self.options.soap_version
        )
        address = self._address(key, spec.address, wsdl_address)
        operations = prepare_operations(
            client,
            binding,
            prefix=f"{key}." if key else "",
            address=address,
            extra_read_only=frozenset(self.options.read_only_operations),
            codec=self.options.codec,
        )
        timeout = (self.context.connect_timeout, self.context.read_timeout)
        sources = SourceFiles(
            dict(client.transport.read),
            dict(client.transport.fetched),
            functools.partial(fetch_document, timeout=timeout)
            if client.transport.fetched
            else None,
        )
        return list(operations), sources

    def _address(self, key: str, address: str | None, wsdl_address: str | None) -> str:
        """Where requests go: the rule of :mod:`adapters.erp.options`."""
        if address == ADDRESS_FROM_WSDL:
            if not wsdl_address:
                raise ValueError(f"service {key or 'wsdl'!r}: address: wsdl, but it has none")
            return wsdl_address
        if address and is_url(address):
            return address
        endpoint = self.context.endpoint
        if not endpoint:
            raise ValueError("the backend has no endpoint to send requests to")
        relative = address or key
        return f"{endpoint.rstrip('/')}/{relative.lstrip('/')}" if relative else endpoint

    # -- calls -----------------------------------------------------------------------------

    def operations(self) -> Mapping[str, Operation] | None:
        return self._described

    def sources(self) -> SourceFiles:
        return self._sources

    async def call(
        self, operation: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        op = self._operation(operation)
        where = {"backend": self.context.backend, "operation": operation}
        try:
            body, headers = build_request(op, params)
        except Exception as exc:
            raise translate(exc, stage="request", policy=self._policy, **where) from exc
        headers.update(self._extra_headers)
        try:
            reply = await self._transport.post(op.address, body, headers, timeout=timeout)
        except AdapterError as exc:
            exc.operation = exc.operation or operation
            raise
        raise_for_unavailable(reply, **where)
        try:
            if len(reply.body) > _PARSE_IN_THREAD_BYTES:
                return await asyncio.to_thread(parse_reply, op, reply)
            return parse_reply(op, reply)
        except Exception as exc:
            raise translate(exc, stage="reply", policy=self._policy, **where) from exc

    def _operation(self, name: str) -> SoapOperation:
        op = self._operations.get(name)
        if op is not None:
            return op
        close = difflib.get_close_matches(name, self._operations, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidRequest(
            f"unknown operation {name!r}{hint}", backend=self.context.backend, operation=name
        )

    async def health(self) -> Health:
        """Reachable when the service address answers any HTTP status but 429/502/503/504."""
        if not self._health_url:
            return Health(ok=False, detail="not started")
        started = time.perf_counter()
        try:
            reply: HttpReply = await self._transport.get(
                self._health_url, timeout=self.context.connect_timeout
            )
        except AdapterError as exc:
            return Health(ok=False, detail=f"{type(exc).__name__}: {exc.message}")
        latency = time.perf_counter() - started
        ok = reply.status not in (429, 502, 503, 504)
        return Health(ok=ok, detail=f"HTTP {reply.status}", latency_s=latency)

    async def close(self) -> None:
        await self._transport.close()
