"""The one place that fixes the order in which the primitives wrap a backend call.

::

    bulkhead → breaker → retry → timeout → call

The bulkhead is outermost so a backend that hangs cannot hold more than its share of the
gateway; the breaker sees one outcome per client call (the result of all its retries), so a
request that succeeded on its second try counts as a success; each attempt runs under the time
left on the route's deadline. Caching and single-flight sit in front of all of this, in the
facade, because they work on HTTP answers rather than backend calls.

What counts as a failure is injected (``Classification``): resilience knows nothing of SOAP or
adapter error classes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from resilience.breaker import BreakerConfig, CircuitBreaker
from resilience.breaker_registry import BreakerRegistry
from resilience.bulkhead import Bulkhead, BulkheadConfig
from resilience.clock import Clock
from resilience.deadline import Deadline
from resilience.errors import DeadlineExceeded
from resilience.events import EventBus
from resilience.retry import Retrier, RetryConfig
from resilience.retry_budget import RetryBudget

__all__ = ["BackendPolicy", "Classification"]

T = TypeVar("T")
#: Adapters time out exactly at the time they are given and say so in their own words; this
#: outer guard only catches one that does not, so it waits a little longer.
_GUARD_MARGIN_S = 0.05


@dataclass(frozen=True)
class Classification:
    """How the policy reads an exception, supplied by whoever knows the error classes."""

    #: the backend is unhealthy (the breaker counts it)
    is_failure: Callable[[BaseException], bool]
    #: trying again later may succeed (the retrier may retry it)
    is_transient: Callable[[BaseException], bool]
    #: seconds the backend asked us to wait, if it said
    retry_after_of: Callable[[BaseException], float | None]


class BackendPolicy:
    """Bulkhead, breaker(s) and retrier of one backend, composed in the fixed order."""

    def __init__(
        self,
        backend: str,
        *,
        breaker: BreakerConfig,
        retry: RetryConfig,
        bulkhead: BulkheadConfig,
        breakers: BreakerRegistry,
        classification: Classification,
        clock: Clock,
        events: EventBus,
    ) -> None:
        self.backend = backend
        self.breaker_config = breaker
        self.breakers = breakers
        self.classification = classification
        self.clock = clock
        self.bulkhead = Bulkhead(backend, bulkhead, clock=clock, events=events)
        self.retrier = Retrier(
            backend,
            retry,
            clock=clock,
            events=events,
            is_retryable=classification.is_transient,
            retry_after_of=classification.retry_after_of,
            budget=RetryBudget(
                retry.budget, retry.budget_window, clock=clock, min_retries=retry.budget_min_retries
            ),
        )
        self.breaker(
            None
        )  # the backend's breaker exists (and shows on the dashboard) from the start

    def breaker(self, operation: str | None) -> CircuitBreaker:
        per_operation = operation if self.breaker_config.per_operation else None
        return self.breakers.get(
            self.backend,
            self.breaker_config,
            per_operation,
            is_failure=self.classification.is_failure,
        )

    async def call(
        self,
        attempt: Callable[[float | None], Awaitable[T]],
        *,
        operation: str,
        deadline: Deadline,
        idempotent: bool,
        guarded: bool = True,
    ) -> T:
        """Run ``attempt(timeout)`` under the policy; ``timeout`` is the time left on the deadline.

        ``guarded=False`` is for an attempt that ends by its ``timeout`` on its own: no guard
        timer of the policy's is set around it.

        The primitives' steps are taken here in their order, as straight-line code rather than
        five nested coroutines: every wait of the call (a slot, the backend's reply) resumes
        each coroutine it is nested in, so each layer cost the call once per wait.
        """
        breaker = self.breaker(operation)
        bulkhead, retrier = self.bulkhead, self.retrier
        if not bulkhead.take():
            await bulkhead.acquire(deadline)
        try:
            entry = breaker.enter()
            try:
                retrier.begin(deadline)
                try:
                    return_value = await self._attempt(attempt, deadline, guarded)
                except Exception as first:
                    return_value = await retrier.after_failure(
                        lambda: self._attempt(attempt, deadline, guarded),
                        first,
                        deadline=deadline,
                        idempotent=idempotent,
                    )
            except Exception as exc:
                if entry is not None:
                    breaker.failed(entry, exc)
                raise
            except BaseException:
                if entry is not None:
                    breaker.abandoned(entry)
                raise
            if entry is not None:
                breaker.succeeded(entry)
            return return_value
        finally:
            bulkhead.release()

    def _attempt(
        self, attempt: Callable[[float | None], Awaitable[T]], deadline: Deadline, guarded: bool
    ) -> Awaitable[T]:
        """One attempt with the time left on the deadline, under the guard when ``guarded``."""
        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(
                f"{self.backend}: the route's deadline passed", name=self.backend
            )
        if not guarded:
            return attempt(remaining)
        return self._guarded(attempt, remaining)

    async def _guarded(
        self, attempt: Callable[[float | None], Awaitable[T]], remaining: float | None
    ) -> T:
        guard = None if remaining is None else remaining + _GUARD_MARGIN_S
        try:
            async with asyncio.timeout(guard):
                return await attempt(remaining)
        except TimeoutError as exc:
            raise DeadlineExceeded(
                f"{self.backend}: no answer within the route's deadline", name=self.backend
            ) from exc
