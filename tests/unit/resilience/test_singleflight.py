"""Single-flight: concurrent calls for one key make one backend call, shared by every caller."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import pytest

from resilience.singleflight import SingleFlight


class Backend:
    """Counts calls; each call waits until the test opens the gate, then answers or raises."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.calls = 0
        self.cancelled = 0
        self.gate = asyncio.Event()
        self.error = error

    async def __call__(self) -> str:
        self.calls += 1
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.error is not None:
            raise self.error
        return f"answer {self.calls}"


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_hundred_concurrent_callers_make_one_call() -> None:
    """100 concurrent identical cold requests: one backend call, its answer to all 100."""
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend()
    callers = [asyncio.ensure_future(flight.run("GET /items/1", backend)) for _ in range(100)]
    await settle()
    assert flight.in_flight("GET /items/1")
    backend.gate.set()
    assert await asyncio.gather(*callers) == ["answer 1"] * 100
    assert backend.calls == 1


async def test_different_keys_make_separate_calls() -> None:
    """Calls for different keys are not merged."""
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend()
    backend.gate.set()
    await asyncio.gather(flight.run("a", backend), flight.run("b", backend))
    assert backend.calls == 2


async def test_an_exception_reaches_every_caller_and_is_not_reported_unretrieved() -> None:
    """The shared call's error is raised in each caller, and asyncio never logs it as lost."""
    reported: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
    error = ConnectionResetError("backend went away")
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend(error)
    callers = [asyncio.ensure_future(flight.run("k", backend)) for _ in range(5)]
    await settle()
    backend.gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(result is error for result in results)
    assert backend.calls == 1
    del callers, results
    gc.collect()
    await settle()
    assert reported == []


async def test_one_caller_cancelled_leaves_the_call_running_for_the_others() -> None:
    """A client hanging up cancels only its own wait; the rest still get the answer."""
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend()
    callers = [asyncio.ensure_future(flight.run("k", backend)) for _ in range(3)]
    await settle()
    callers[0].cancel()
    await settle()
    assert callers[0].cancelled()
    assert flight.in_flight("k")
    backend.gate.set()
    assert await asyncio.gather(*callers[1:]) == ["answer 1", "answer 1"]
    assert (backend.calls, backend.cancelled) == (1, 0)


async def test_all_callers_cancelled_cancels_the_call_and_frees_the_key() -> None:
    """When every caller is gone the backend call is cancelled, and the key is free at once."""
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend()
    callers = [asyncio.ensure_future(flight.run("k", backend)) for _ in range(3)]
    await settle()
    for caller in callers:
        caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    assert not flight.in_flight("k")
    await settle()
    assert backend.cancelled == 1
    assert len(flight) == 0


async def test_a_caller_after_all_others_left_starts_a_fresh_call() -> None:
    """A new caller never joins a call still winding down its cancellation: it makes its own."""
    closing = asyncio.Event()
    calls = 0

    async def slow_to_cancel() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await closing.wait()  # e.g. closing the connection politely
                raise
        return f"answer {calls}"

    flight: SingleFlight[str, str] = SingleFlight()
    caller = asyncio.ensure_future(flight.run("k", slow_to_cancel))
    await settle()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    fresh = asyncio.ensure_future(flight.run("k", slow_to_cancel))
    await settle()
    closing.set()  # before asserting, so a wrong implementation fails instead of hanging
    assert fresh.done() and fresh.result() == "answer 2"
    await settle()


@pytest.mark.parametrize("error", [None, ValueError("boom")])
async def test_the_key_is_free_once_the_call_ends(error: BaseException | None) -> None:
    """Results are not kept: after a call ends (answer or error) the next caller calls again."""
    flight: SingleFlight[str, str] = SingleFlight()
    backend = Backend(error)
    backend.gate.set()
    for expected_calls in (1, 2):
        with contextlib.suppress(ValueError):
            await flight.run("k", backend)
        await settle()
        assert not flight.in_flight("k")
        assert len(flight) == 0
        assert backend.calls == expected_calls


async def test_an_error_raised_after_everyone_left_is_not_reported_unretrieved() -> None:
    """A call that answers its cancellation with an error, with no caller left, logs nothing."""
    reported: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))

    async def closes_noisily() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise ConnectionAbortedError("closed while sending") from None
        return "never"

    flight: SingleFlight[str, str] = SingleFlight()
    caller = asyncio.ensure_future(flight.run("k", closes_noisily))
    await settle()
    caller.cancel()
    await settle()
    del caller
    gc.collect()
    await settle()
    assert reported == []
