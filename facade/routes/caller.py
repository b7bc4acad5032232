"""The seam between a route and its backend: how a call is made (directly, or through a policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from adapters.base import Adapter

__all__ = ["BackendCaller", "DirectCaller"]


class BackendCaller(Protocol):
    async def call(
        self,
        backend: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None,
        idempotent: bool,
    ) -> Any: ...


class DirectCaller:
    """Calls the adapter as it is: no breaker, retry or bulkhead (tests, and the policy's last step)."""

    def __init__(self, adapters: Mapping[str, Adapter]) -> None:
        self.adapters = adapters

    async def call(
        self,
        backend: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None,
        idempotent: bool,
    ) -> Any:
        return await self.adapters[backend].call(operation, params, timeout=timeout)
