"""Watching the ERP's breaker from outside the gateway.

The breaker's state lives inside the gateway, so these helpers read it from what a client and the
legacy system can see:

- **open**: reads are answered 503 at once, with ``Retry-After`` counting down to the next
  trial, while the ERP's request counter does not move;
- **a fresh trip**: a 503 whose ``Retry-After`` equals the whole open period (the breaker has
  just opened, so the next trial is that far away);
- **half-open**: exactly one request reaches the ERP (the counter moves by one) while
  concurrent callers are still turned away;
- **closed**: after the trial's success, reads reach the ERP and succeed again.

To see the half-open window at all, the ERP is brought back *slow* (``slow:400``): the trial
then holds the breaker half-open for 0.4 s, long enough to count who else got through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp

from tests.chaos.load import Reply, drive, fetch
from tests.chaos.sandbox_control import CounterWatch, SandboxControl

__all__ = ["RECOVERY_MODE", "TRIAL_S", "Recovery", "recover", "wait_for_fresh_trip"]

#: How the ERP comes back in recovery checks: healthy, but slow enough to see the trial.
TRIAL_S = 0.4
RECOVERY_MODE = f"slow:{round(TRIAL_S * 1000)}"


async def wait_for_fresh_trip(
    http: aiohttp.ClientSession,
    gateway: str,
    paths: Iterator[str],
    *,
    open_for_s: float,
    within_s: float,
) -> Reply:
    """Read until a 503 says the next trial is a whole open period away: the breaker just opened.

    Returns that answer; fails when no such answer comes ``within_s``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    wanted = str(max(1, round(open_for_s)))
    seen: list[str] = []
    while loop.time() < deadline:
        reply = await fetch(http, gateway, next(paths), timeout_s=within_s)
        if reply.status == 503 and reply.headers.get("Retry-After") == wanted:
            return reply
        seen.append(f"{reply.status}/{reply.headers.get('Retry-After')}")
    raise AssertionError(
        f"the breaker did not (re)open within {within_s}s: no 503 with Retry-After {wanted};"
        f" last answers (status/Retry-After): {seen[-10:]}"
    )


@dataclass
class Recovery:
    """What happened while the ERP came back: every answer and the ERP counter over time."""

    counter_at_start: int
    replies: list[Reply]
    counter: CounterWatch

    @property
    def trial(self) -> Reply:
        """The request that made the trial call: the success sent first.

        Nothing could succeed before the single trial did. Other reads of the same order sent
        while it was under way joined it (single-flight) and succeed with it, possibly answered
        a moment before it; but they were all sent after it, so the first sent is the trial.
        """
        successes = [r for r in self.replies if r.status == 200]
        assert successes, "the breaker never let a call through: " + "; ".join(
            str(r) for r in self.replies[-5:]
        )
        return min(successes, key=lambda r: r.sent_at)

    def before_trial(self) -> list[Reply]:
        return [r for r in self.replies if r.received_at < self.trial.sent_at]

    def sent_while_half_open(self) -> list[Reply]:
        """Requests sent after the ERP counter showed the trial had arrived, before it succeeded.

        The gateway decided each of them after the trial reached the ERP, so each was either
        turned away (the trial under way) or, once the breaker closed, served.
        """
        arrived = [s.answered_at for s in self.counter.samples if s.value > self.counter_at_start]
        assert arrived, "the ERP counter never showed the trial"
        return [r for r in self.replies if min(arrived) < r.sent_at < self.trial.received_at]

    def after_trial(self) -> list[Reply]:
        return [r for r in self.replies if r.sent_at > self.trial.received_at]

    def counter_before_close(self) -> list[int]:
        """Counter values certainly read before the breaker closed.

        The trial is held at the ERP for TRIAL_S from its arrival, which came after the trial
        was sent and after the last sample still showing the starting count; the breaker cannot
        have closed earlier than TRIAL_S after the later of the two.
        """
        quiet = [s.asked_at for s in self.counter.samples if s.value == self.counter_at_start]
        arrived_after = max([self.trial.sent_at, *quiet])
        return [s.value for s in self.counter.answered_before(arrived_after + TRIAL_S)]


async def recover(
    http: aiohttp.ClientSession,
    gateway: str,
    control: SandboxControl,
    paths: Iterator[str],
    *,
    within_s: float,
    successes_wanted: int = 15,
) -> Recovery:
    """Bring the ERP back (slow) and drive 20 concurrent readers until reads succeed again."""
    await control.set_fault("erp", RECOVERY_MODE)
    start = await control.requests("erp")
    successes = 0

    def enough(reply: Reply) -> bool:
        nonlocal successes
        successes += reply.status == 200
        return successes >= successes_wanted

    async with control.watch("erp") as counter:
        replies = await drive(
            http, gateway, paths, concurrency=20, duration_s=within_s, stop_when=enough
        )
    return Recovery(start, replies, counter)
