"""The Adapter protocol: what the gateway needs from any backend, whatever it speaks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Adapter", "AdapterContext", "Health", "Operation"]


@dataclass(frozen=True, slots=True)
class Operation:
    """One callable operation of a backend, as discovered from its description (WSDL, config)."""

    name: str
    #: Names of the top-level parameters, where the backend's description says them.
    params: tuple[str, ...] = ()
    #: True when calling it changes nothing (safe to retry without an idempotency key).
    read_only: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str = ""
    latency_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AdapterContext:
    """Everything an adapter is given besides its own options: resolved and ready to use."""

    backend: str
    endpoint: str
    connect_timeout: float
    read_timeout: float
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    #: Directory that relative paths in the options are resolved against.
    base_dir: str = "."
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Adapter(Protocol):
    """A connection to one legacy system.

    ``Options`` is a frozen dataclass describing the kind's ``options:`` block in config; the
    gateway binds and validates it at load time with the same rules as the rest of the file.

    An adapter whose :meth:`call` as a whole ends by its ``timeout`` (one ``asyncio.timeout``
    around everything it does, logins included) may say so with a class attribute
    ``bounds_calls = True``: the backend's policy then sets no deadline guard of its own
    around the call, one loop timer less per call. Without it the policy guards every call.
    """

    kind: ClassVar[str]
    Options: ClassVar[type]

    async def start(self) -> None:
        """Open pools, load descriptions (WSDLs): everything slow that happens once."""

    def operations(self) -> Mapping[str, Operation] | None:
        """The operations this backend offers (after :meth:`start`), or None if it cannot tell."""

    async def call(
        self, operation: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        """Call ``operation`` with ``params``; return plain data or raise an ``AdapterError``.

        ``timeout`` caps the whole call (a route's remaining deadline) below the read timeout.
        """

    async def health(self) -> Health:
        """A cheap liveness probe of the backend."""

    async def close(self) -> None:
        """Release every connection; the adapter is not used again."""
