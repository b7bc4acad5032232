"""The Adapter contract, proved for every built-in kind against a live server it can fail on."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.errors import (
    AdapterError,
    BackendTimeout,
    ConnectFailed,
    PermanentError,
    ProtocolError,
    TransientError,
)
from sandbox.faults import Fault
from tests.contract.harness import HARNESSES, Harness


def over(harnesses: list[Harness]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("harness", harnesses, ids=[h.kind for h in harnesses])


EVERY_KIND = over(HARNESSES)
# framed-tcp carries opaque payloads: it has no in-band error answers unless configured to.
WITH_INBAND_ERRORS = over([h for h in HARNESSES if h.kind != "framed-tcp"])
WITH_BUSINESS_REFUSALS = over([h for h in HARNESSES if h.refused is not None])


async def wait_until(predicate: object, deadline: float = 2.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return bool(predicate())  # type: ignore[operator]


@EVERY_KIND
async def test_start_needs_no_backend_and_calls_succeed(harness: Harness) -> None:
    """start() works while the backend is down (the gateway must boot), and calls work once it is up."""
    async with harness.running() as system:
        await system.switch.set(Fault.parse("down"))
        adapter = harness.build(system)
        await adapter.start()
        await system.switch.set(Fault.parse("reset"))
        result = await adapter.call(harness.good.operation, harness.good.params)
        assert result
        await adapter.close()


@EVERY_KIND
async def test_configured_timeout_is_exact(harness: Harness) -> None:
    """A 1.5 s read timeout on a hung backend fires after 1.5 s and before 1.9 s (no rounding up)."""
    async with harness.running() as system:
        adapter = harness.build(system, read=1.5)
        await adapter.start()
        await system.switch.set(Fault.parse("hang"))
        started = time.monotonic()
        with pytest.raises(BackendTimeout) as caught:
            await adapter.call(harness.good.operation, harness.good.params)
        elapsed = time.monotonic() - started
        assert 1.5 <= elapsed < 1.9, elapsed
        assert caught.value.transient
        await system.switch.set(Fault.parse("reset"))
        await adapter.close()


@EVERY_KIND
async def test_refused_connection_is_transient(harness: Harness) -> None:
    """A backend that refuses connections gives ConnectFailed, a transient error naming the backend."""
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        await system.switch.set(Fault.parse("down"))
        with pytest.raises(ConnectFailed) as caught:
            await adapter.call(harness.good.operation, harness.good.params)
        assert caught.value.transient
        assert caught.value.backend == f"contract-{harness.kind}"
        await system.switch.set(Fault.parse("reset"))
        await adapter.close()


@WITH_INBAND_ERRORS
async def test_backend_transient_error_is_transient(harness: Harness) -> None:
    """The system's own 'try later' answer (HTTP 502/503, Fishbowl 1009) is a TransientError."""
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        await system.switch.set(Fault.parse("error_rate:1"))
        with pytest.raises(TransientError):
            await adapter.call(harness.good.operation, harness.good.params)
        await system.switch.set(Fault.parse("reset"))
        await adapter.close()


@EVERY_KIND
async def test_garbage_is_a_permanent_protocol_error_that_blames_the_backend(
    harness: Harness,
) -> None:
    """A malformed reply is a ProtocolError: not retried, but counted as a backend failure."""
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        await system.switch.set(Fault.parse("garbage"))
        with pytest.raises(ProtocolError) as caught:
            await adapter.call(harness.good.operation, harness.good.params)
        assert not caught.value.transient
        assert caught.value.backend_failure
        await system.switch.set(Fault.parse("reset"))
        await adapter.close()


@WITH_BUSINESS_REFUSALS
async def test_business_refusal_is_permanent(harness: Harness) -> None:
    """A call the backend refuses on its merits raises a permanent error of the expected class."""
    assert harness.refused is not None
    call, expected = harness.refused
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        with pytest.raises(expected) as caught:
            await adapter.call(call.operation, call.params)
        assert isinstance(caught.value, PermanentError)
        assert caught.value.operation == call.operation
        await adapter.close()


@EVERY_KIND
async def test_reply_size_cap_is_enforced(harness: Harness) -> None:
    """A reply larger than the configured cap is refused as a ProtocolError."""
    async with harness.running() as system:
        adapter = harness.build(system, **harness.tiny_cap)
        await adapter.start()
        with pytest.raises(ProtocolError):
            await adapter.call(harness.good.operation, harness.good.params)
        await adapter.close()


@EVERY_KIND
async def test_cancellation_leaks_no_connection(harness: Harness) -> None:
    """Cancelled in-flight calls release their connections: later calls work and close() leaves none open."""
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        await adapter.call(harness.good.operation, harness.good.params)  # log in, warm the pool
        await system.switch.set(Fault.parse("hang"))
        before = system.switch.requests
        calls = [
            asyncio.create_task(adapter.call(harness.good.operation, harness.good.params))
            for _ in range(3)
        ]
        assert await wait_until(lambda: system.switch.requests >= before + 3)
        for task in calls:
            task.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        await system.switch.set(Fault.parse("reset"))
        assert await adapter.call(harness.good.operation, harness.good.params)
        await adapter.close()
        assert await wait_until(lambda: system.open_connections == 0), system.open_connections


@EVERY_KIND
async def test_errors_name_backend_and_operation(harness: Harness) -> None:
    """Every adapter error carries the backend and operation it came from."""
    async with harness.running() as system:
        adapter = harness.build(system)
        await adapter.start()
        await system.switch.set(Fault.parse("down"))
        with pytest.raises(AdapterError) as caught:
            await adapter.call(harness.good.operation, harness.good.params)
        assert caught.value.backend == f"contract-{harness.kind}"
        assert caught.value.operation == harness.good.operation
        await system.switch.set(Fault.parse("reset"))
        await adapter.close()
