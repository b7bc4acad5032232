"""The composed policy: bulkhead, breaker, retry and deadline wrap a call in that order."""

from __future__ import annotations

import asyncio

import pytest

from resilience import (
    BackendPolicy,
    BreakerConfig,
    BreakerOpen,
    BreakerRegistry,
    BulkheadConfig,
    BulkheadFull,
    Classification,
    Deadline,
    DeadlineExceeded,
    EventBus,
    FakeClock,
    RetryConfig,
)


class Transient(Exception):
    retry_after: float | None = None


class Business(Exception):
    """The backend answered 'no': not a failure, not worth retrying."""


CLASSES = Classification(
    is_failure=lambda e: isinstance(e, Transient | DeadlineExceeded),
    is_transient=lambda e: isinstance(e, Transient),
    retry_after_of=lambda e: getattr(e, "retry_after", None),
)


def policy(clock: FakeClock, **overrides: object) -> BackendPolicy:
    events = EventBus()
    return BackendPolicy(
        "erp",
        breaker=overrides.get("breaker", BreakerConfig(consecutive_failures=2, open_for=10)),  # type: ignore[arg-type]
        retry=overrides.get("retry", RetryConfig(attempts=3, backoff=0.1, backoff_max=0.2)),  # type: ignore[arg-type]
        bulkhead=overrides.get("bulkhead", BulkheadConfig(max_concurrent=2, max_wait=0)),  # type: ignore[arg-type]
        breakers=BreakerRegistry(clock=clock, events=events),
        classification=CLASSES,
        clock=clock,
        events=events,
    )


def flaky(failures: int, calls: list[float | None]) -> object:
    async def attempt(timeout: float | None) -> str:
        calls.append(timeout)
        if len(calls) <= failures:
            raise Transient("refused")
        return "ok"

    return attempt


async def test_transient_failure_is_retried_and_the_breaker_sees_one_success() -> None:
    """An idempotent call that fails once then succeeds returns, and leaves the breaker unharmed."""
    clock = FakeClock()
    p = policy(clock)
    calls: list[float | None] = []
    result = await p.call(
        flaky(1, calls), operation="Read", deadline=Deadline(clock, 5), idempotent=True
    )  # type: ignore[arg-type]
    assert result == "ok"
    assert len(calls) == 2
    snapshot = p.breaker(None).snapshot()
    assert snapshot.consecutive_failures == 0
    assert snapshot.calls == 1


async def test_writes_without_a_key_are_not_retried() -> None:
    """A non-idempotent call fails on its first transient error."""
    clock = FakeClock()
    calls: list[float | None] = []
    with pytest.raises(Transient):
        await policy(clock).call(
            flaky(1, calls), operation="Create", deadline=Deadline(clock, 5), idempotent=False
        )  # type: ignore[arg-type]
    assert len(calls) == 1


async def test_open_breaker_rejects_without_calling() -> None:
    """After two failed client calls the breaker opens and the next call never reaches the backend."""
    clock = FakeClock()
    p = policy(clock, retry=RetryConfig(attempts=1))
    calls: list[float | None] = []
    for _ in range(2):
        with pytest.raises(Transient):
            await p.call(
                flaky(99, calls), operation="Read", deadline=Deadline(clock, 5), idempotent=True
            )  # type: ignore[arg-type]
    with pytest.raises(BreakerOpen) as caught:
        await p.call(
            flaky(99, calls), operation="Read", deadline=Deadline(clock, 5), idempotent=True
        )  # type: ignore[arg-type]
    assert len(calls) == 2
    assert caught.value.retry_after == pytest.approx(10)
    assert p.bulkhead.in_flight == 0


async def test_business_errors_pass_through_without_retry_or_trip() -> None:
    """A business refusal is raised at once and does not count against the breaker."""
    clock = FakeClock()
    p = policy(clock)
    calls = 0

    async def refuse(timeout: float | None) -> None:
        nonlocal calls
        calls += 1
        raise Business("unknown customer")

    for _ in range(3):
        with pytest.raises(Business):
            await p.call(refuse, operation="Create", deadline=Deadline(clock, 5), idempotent=True)
    assert calls == 3
    assert p.breaker(None).state == "closed"


async def test_attempts_get_the_time_left_on_the_deadline() -> None:
    """Each attempt is told the remaining deadline, which shrinks by the backoff between attempts."""
    clock = FakeClock()
    calls: list[float | None] = []
    await policy(clock).call(
        flaky(2, calls), operation="Read", deadline=Deadline(clock, 5), idempotent=True
    )  # type: ignore[arg-type]
    assert calls[0] == pytest.approx(5)
    assert calls[0] >= calls[1] >= calls[2]  # type: ignore[operator]


async def test_expired_deadline_is_not_attempted() -> None:
    """A call whose deadline already passed raises DeadlineExceeded without reaching the backend."""
    clock = FakeClock()
    deadline = Deadline(clock, 1)
    clock.advance(2)
    calls: list[float | None] = []
    with pytest.raises(DeadlineExceeded):
        await policy(clock).call(
            flaky(0, calls), operation="Read", deadline=deadline, idempotent=True
        )  # type: ignore[arg-type]
    assert calls == []


async def test_bulkhead_rejects_beyond_its_cap_before_the_breaker() -> None:
    """With two calls in flight a third is refused at once, and the breaker records nothing for it."""
    clock = FakeClock()
    p = policy(clock)
    gate = asyncio.Event()

    async def held(timeout: float | None) -> str:
        await gate.wait()
        return "ok"

    running = [
        asyncio.create_task(
            p.call(held, operation="Read", deadline=Deadline(clock, None), idempotent=True)
        )
        for _ in range(2)
    ]
    await asyncio.sleep(0)
    with pytest.raises(BulkheadFull):
        await p.call(held, operation="Read", deadline=Deadline(clock, None), idempotent=True)
    gate.set()
    assert await asyncio.gather(*running) == ["ok", "ok"]
    assert p.breaker(None).snapshot().calls == 2


@pytest.mark.parametrize("guarded", [True, False])
async def test_the_deadline_guard_is_one_loop_timer_left_out_for_self_bounding_attempts(
    guarded: bool,
) -> None:
    """A guarded attempt runs under one loop timer set a little past the time it was given; an
    attempt that ends by its own timeout (``guarded=False``) runs under none of the policy's."""
    clock = FakeClock()
    loop = asyncio.get_running_loop()
    timers: list[float] = []

    async def attempt(timeout: float | None) -> str:
        timers.extend(
            handle.when() - loop.time()
            for handle in loop._scheduled  # type: ignore[attr-defined]
            if not handle.cancelled()
        )
        return "ok"

    result = await policy(clock).call(
        attempt, operation="Read", deadline=Deadline(clock, 5), idempotent=True, guarded=guarded
    )
    assert result == "ok"
    if guarded:
        assert len(timers) == 1 and 5.0 < timers[0] <= 5.05
    else:
        assert timers == []
