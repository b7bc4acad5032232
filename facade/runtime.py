"""Everything a running gateway holds: adapters, policies, the store and what lives in it.

``Runtime.open`` is the composition root's second half (after settings): it opens the backends
(which may still reject the configuration), the store, and builds one policy per backend with the
adapters' error classes wired into resilience's injected predicates. ``close`` releases it all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.errors import AdapterError
from adapters.registry import AdapterRegistry
from facade.backends import Backends, open_backends
from facade.settings import Settings
from resilience import (
    BackendPolicy,
    BreakerRegistry,
    Classification,
    Clock,
    Deadline,
    DeadlineExceeded,
    EventBus,
    IdempotencyStore,
    Outbox,
    ResponseCache,
    Store,
    SystemClock,
)

__all__ = ["CLASSIFICATION", "PolicyCaller", "Runtime"]

log = structlog.get_logger("veneer.runtime")


def _is_failure(exc: BaseException) -> bool:
    if isinstance(exc, AdapterError):
        return exc.backend_failure
    return isinstance(exc, DeadlineExceeded)


CLASSIFICATION = Classification(
    is_failure=_is_failure,
    is_transient=lambda exc: isinstance(exc, AdapterError) and exc.transient,
    retry_after_of=lambda exc: exc.retry_after if isinstance(exc, AdapterError) else None,
)


def default_deadline(settings: Settings, backend: str) -> float:
    """A route without `timeout` gets room for every attempt, capped at 30 s."""
    spec = settings.backends[backend]
    per_attempt = spec.timeouts.connect + spec.timeouts.read
    return min(30.0, per_attempt * spec.retry.attempts + spec.retry.backoff_max)


class PolicyCaller:
    """The BackendCaller of a running gateway: every call goes through its backend's policy."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def call(
        self,
        backend: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None,
        idempotent: bool,
    ) -> Any:
        runtime = self.runtime
        adapter = runtime.backends.adapters[backend]
        deadline = runtime.deadline(backend, timeout)

        async def attempt(remaining: float | None) -> Any:
            started = time.perf_counter()
            outcome = "success"
            try:
                return await adapter.call(operation, params, timeout=remaining)
            except AdapterError as exc:
                outcome = "refused" if not exc.backend_failure else type(exc).__name__
                raise
            except BaseException as exc:
                outcome = type(exc).__name__
                raise
            finally:
                runtime.observe(backend, operation, outcome, time.perf_counter() - started)

        return await runtime.policies[backend].call(
            attempt,
            operation=operation,
            deadline=deadline,
            idempotent=idempotent,
        )


@dataclass
class Runtime:
    settings: Settings
    backends: Backends
    store: Store | None
    clock: Clock
    events: EventBus
    breakers: BreakerRegistry
    policies: dict[str, BackendPolicy] = field(default_factory=dict)
    cache: ResponseCache | None = None
    idempotency: IdempotencyStore | None = None
    outbox: Outbox | None = None
    #: called after every backend attempt: (backend, operation, outcome, seconds)
    observers: list[Callable[[str, str, str, float], None]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        registry: AdapterRegistry | None = None,
        clock: Clock | None = None,
        with_store: bool = True,
    ) -> Runtime:
        clock = clock or SystemClock()
        backends = await open_backends(settings, registry)
        store = None
        try:
            if with_store:
                store = await Store.open(settings.store_url(), clock=clock)
        except BaseException:
            await backends.close()
            raise
        events = EventBus()
        runtime = cls(
            settings, backends, store, clock, events, BreakerRegistry(clock=clock, events=events)
        )
        for name, spec in settings.backends.items():
            runtime.policies[name] = BackendPolicy(
                name,
                breaker=spec.breaker,
                retry=spec.retry,
                bulkhead=spec.bulkhead,
                breakers=runtime.breakers,
                classification=CLASSIFICATION,
                clock=clock,
                events=events,
            )
        runtime.cache = ResponseCache(store, clock=clock)
        if store is not None:
            runtime.idempotency = IdempotencyStore(store, clock=clock)
            runtime.outbox = Outbox(store, clock=clock)
        return runtime

    def observe(self, backend: str, operation: str, outcome: str, seconds: float) -> None:
        for observer in self.observers:
            try:
                observer(backend, operation, outcome, seconds)
            except Exception:
                log.exception("backend call observer failed")

    def caller(self) -> PolicyCaller:
        return PolicyCaller(self)

    def deadline(self, backend: str, timeout: float | None) -> Deadline:
        return Deadline(self.clock, timeout or default_deadline(self.settings, backend))

    def accepts_calls(self, backend: str) -> bool:
        """Whether the backend's breaker would let a call through now (the outbox asks)."""
        breaker = self.policies[backend].breaker(None)
        return breaker.state not in {"open", "forced_open"} or breaker.retry_after() == 0

    async def close(self) -> None:
        await self.backends.close()
        if self.store is not None:
            await self.store.close()
