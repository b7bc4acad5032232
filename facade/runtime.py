"""Everything a running gateway holds: adapters, policies, the store and what lives in it.

``Runtime.open`` is the composition root's second half (after settings): it opens the backends
(which may still reject the configuration), the store, and builds one policy per backend with the
adapters' error classes wired into resilience's injected predicates. ``close`` releases it all.

What a configuration reload replaces is a :class:`Generation`: the settings, started adapters,
compiled routes and policies of one configuration. The store, the caches, the outbox, the clock,
the event bus and the breaker registry outlive generations, so the breaker of a backend whose
settings did not change keeps its state across a reload. An adapter is taken over only if its
settings are the same *and* the documents it was started from (a WSDL, the schemas it imports,
on disk or fetched by URL) still hold what it read: a WSDL that changed gets a new adapter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from adapters.base import Adapter
from adapters.errors import AdapterError
from adapters.registry import AdapterRegistry
from adapters.sources import DescribedByFiles
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
from resilience.breaker_sharing import SharedForcings

__all__ = ["CLASSIFICATION", "Generation", "PolicyCaller", "Runtime"]

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


def _same_system(old: Any, new: Any) -> bool:
    """Whether two backend settings address the same system the same way (the adapter is reusable)."""
    ignore = {"breaker": None, "retry": None, "bulkhead": None, "cache": None, "description": ""}
    return bool(replace(old, **ignore) == replace(new, **ignore))


def _changed_sources(adapters: Mapping[str, Adapter]) -> dict[str, list[str]]:
    """The adapters whose description documents changed since they read them. Blocks."""
    changed = {}
    for name, adapter in adapters.items():
        if isinstance(adapter, DescribedByFiles):
            files = adapter.sources().changed()
            if files:
                changed[name] = files
    return changed


@dataclass
class Generation:
    """One configuration in service: its settings, started adapters, routes and policies."""

    number: int
    settings: Settings
    backends: Backends
    policies: dict[str, BackendPolicy]

    def reused_from(self, older: Generation) -> set[str]:
        """The backends whose adapter this generation took over from ``older``."""
        return {
            name
            for name, adapter in self.backends.adapters.items()
            if older.backends.adapters.get(name) is adapter
        }

    async def close_except(self, kept: Mapping[str, Adapter]) -> None:
        """Close this generation's adapters, except those a newer one took over."""
        for name, adapter in self.backends.adapters.items():
            if kept.get(name) is not adapter:
                await Backends(adapters={name: adapter}).close()


class PolicyCaller:
    """The BackendCaller of one generation: every call goes through its backend's policy.

    A request keeps the generation it started on: a reload mid-call does not change the adapter
    or policy under it.
    """

    def __init__(self, runtime: Runtime, generation: Generation) -> None:
        self.runtime = runtime
        self.generation = generation

    async def call(
        self,
        backend: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        timeout: float | None,
        idempotent: bool,
    ) -> Any:
        runtime, generation = self.runtime, self.generation
        adapter = generation.backends.adapters[backend]
        deadline = runtime.deadline(backend, timeout, generation)

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

        return await generation.policies[backend].call(
            attempt,
            operation=operation,
            deadline=deadline,
            idempotent=idempotent,
            guarded=not getattr(adapter, "bounds_calls", False),
        )


@dataclass
class Runtime:
    generation: Generation
    store: Store | None
    clock: Clock
    events: EventBus
    breakers: BreakerRegistry
    registry: AdapterRegistry = field(default_factory=AdapterRegistry)
    cache: ResponseCache | None = None
    idempotency: IdempotencyStore | None = None
    outbox: Outbox | None = None
    #: operators' forcings, shared with every other process through the store
    forcings: SharedForcings | None = None
    #: called after every backend attempt: (backend, operation, outcome, seconds)
    observers: list[Callable[[str, str, str, float], None]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.generation.settings

    @property
    def backends(self) -> Backends:
        return self.generation.backends

    @property
    def policies(self) -> dict[str, BackendPolicy]:
        return self.generation.policies

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
        registry = registry or AdapterRegistry()
        backends = await open_backends(settings, registry)
        store = None
        try:
            if with_store:
                store = await Store.open(settings.store_url(), clock=clock)
        except BaseException:
            await backends.close()
            raise
        events = EventBus()
        breakers = BreakerRegistry(clock=clock, events=events)
        first = Generation(1, settings, backends, {})
        runtime = cls(first, store, clock, events, breakers, registry)
        first.policies.update(runtime._policies(settings, None))
        runtime.cache = ResponseCache(store, clock=clock)
        if store is not None:
            runtime.idempotency = IdempotencyStore(store, clock=clock)
            runtime.outbox = Outbox(store, clock=clock)
            runtime.forcings = SharedForcings(store, breakers, clock)
        return runtime

    async def prepare(self, settings: Settings) -> Generation:
        """Open the next generation from ``settings`` without putting it in service.

        Adapters of backends that address the same system the same way, from description files
        that did not change (on disk or at their URL), are taken over, not restarted; the others start now (a WSDL
        loads here). Raises ConfigError with every issue found, having closed whatever it
        started; the current generation is untouched.
        """
        current = self.generation
        reuse = {
            name: adapter
            for name, adapter in current.backends.adapters.items()
            if name in settings.backends
            and _same_system(current.settings.backends[name], settings.backends[name])
        }
        for name, files in (await asyncio.to_thread(_changed_sources, reuse)).items():
            log.info(
                "backend description changed: starting a new adapter",
                backend=name,
                files=files,
            )
            del reuse[name]
        backends = await open_backends(settings, self.registry, reuse=reuse)
        return Generation(current.number + 1, settings, backends, {})

    def adopt(self, generation: Generation) -> Generation:
        """Put ``generation`` in service (no await: atomic on the loop); returns the retired one.

        Breakers of removed backends go; a backend that now addresses another system starts
        with a fresh breaker; every other breaker keeps its state and takes the new settings,
        including that of a backend whose adapter was restarted for a changed WSDL (the system
        behind it is the same one, and a state forced for its maintenance must stay forced).
        """
        retired = self.generation
        self.breakers.retain(generation.settings.backends)
        for name, spec in generation.settings.backends.items():
            before = retired.settings.backends.get(name)
            if before is not None and not _same_system(before, spec):
                self.breakers.forget(name)
        generation.policies.update(self._policies(generation.settings, retired))
        self.generation = generation
        return retired

    def _policies(self, settings: Settings, retired: Generation | None) -> dict[str, BackendPolicy]:
        """One policy per backend; an unchanged backend keeps its policy (bulkhead, budget)."""
        policies: dict[str, BackendPolicy] = {}
        for name, spec in settings.backends.items():
            if retired is not None and retired.settings.backends.get(name) == spec:
                policies[name] = retired.policies[name]
                continue
            policies[name] = BackendPolicy(
                name,
                breaker=spec.breaker,
                retry=spec.retry,
                bulkhead=spec.bulkhead,
                breakers=self.breakers,
                classification=CLASSIFICATION,
                clock=self.clock,
                events=self.events,
            )
        return policies

    def observe(self, backend: str, operation: str, outcome: str, seconds: float) -> None:
        for observer in self.observers:
            try:
                observer(backend, operation, outcome, seconds)
            except Exception:
                log.exception("backend call observer failed")

    def caller(self, generation: Generation | None = None) -> PolicyCaller:
        return PolicyCaller(self, generation or self.generation)

    def deadline(
        self, backend: str, timeout: float | None, generation: Generation | None = None
    ) -> Deadline:
        """``timeout``, or the backend's default as ``generation`` (or the current one) sets it."""
        settings = (generation or self.generation).settings
        return Deadline(self.clock, timeout or default_deadline(settings, backend))

    def accepts_calls(self, backend: str) -> bool:
        """Whether the backend's breaker would let a call through now (the outbox asks)."""
        breaker = self.policies[backend].breaker(None)
        return breaker.state not in {"open", "forced_open"} or breaker.retry_after() == 0

    async def close(self) -> None:
        await self.backends.close()
        if self.store is not None:
            await self.store.close()
