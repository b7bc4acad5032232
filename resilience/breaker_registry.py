"""The breakers of one gateway, by name: one per backend, or one per backend operation.

The facade asks for a breaker on every call (``get`` is a dict lookup); the ops API and the
dashboard list and find them by name. Names are ``"erp"`` or, with ``per_operation``,
``"erp:SalesOrder.Read"``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from resilience.breaker import CircuitBreaker, every_exception
from resilience.breaker_config import BreakerConfig
from resilience.clock import Clock
from resilience.events import EventBus

__all__ = ["BreakerRegistry", "breaker_name"]


def breaker_name(backend: str, config: BreakerConfig, operation: str | None = None) -> str:
    """``backend``, or ``backend:operation`` when the config asks for a breaker per operation."""
    if config.per_operation and operation:
        return f"{backend}:{operation}"
    return backend


class BreakerRegistry:
    def __init__(self, *, clock: Clock, events: EventBus) -> None:
        self._clock = clock
        self._events = events
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(
        self,
        backend: str,
        config: BreakerConfig,
        operation: str | None = None,
        *,
        is_failure: Callable[[BaseException], bool] = every_exception,
    ) -> CircuitBreaker:
        """The breaker guarding this backend (or operation), created on first use.

        A changed ``config`` (a configuration reload) is applied to the existing breaker, which
        keeps its state. ``is_failure`` is fixed when the breaker is created.
        """
        name = breaker_name(backend, config, operation)
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(
                name, config, clock=self._clock, events=self._events, is_failure=is_failure
            )
            self._breakers[name] = breaker
        elif breaker.config is not config and breaker.config != config:
            breaker.reconfigure(config)
        return breaker

    def all(self) -> list[CircuitBreaker]:
        """Every breaker made so far, by name."""
        return [self._breakers[name] for name in sorted(self._breakers)]

    def find(self, name: str) -> CircuitBreaker | None:
        return self._breakers.get(name)

    def retain(self, backends: Collection[str]) -> list[str]:
        """Drop the breakers of backends no longer configured (a reload); returns their names."""
        keep = set(backends)
        dropped = [n for n in self._breakers if n.partition(":")[0] not in keep]
        for name in dropped:
            del self._breakers[name]
        return dropped

    def forget(self, backend: str) -> None:
        """Drop a backend's breakers, so the next ``get`` starts afresh (its settings changed)."""
        for name in [n for n in self._breakers if n.partition(":")[0] == backend]:
            del self._breakers[name]

    def tick(self) -> None:
        """Lift every forcing whose TTL has run out (the dashboard's poll calls this)."""
        for breaker in list(self._breakers.values()):
            breaker.tick()
