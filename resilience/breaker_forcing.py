"""An operator's hand on a breaker: forced open, forced closed or disabled, with an optional TTL.

A forcing is a value: it knows when it ends and how to describe itself for the transition event
(and so for the audit trail in the logs). The breaker applies it; ``auto`` lifts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from resilience.breaker_state import BreakerState
from resilience.clock import Clock

__all__ = ["ForceTarget", "Forcing", "check_force", "lifted"]

#: What ``CircuitBreaker.force`` accepts; ``auto`` hands control back to the automatic machine.
ForceTarget = Literal["forced_open", "forced_closed", "disabled", "auto"]


def check_force(target: str, ttl_s: float | None) -> None:
    """Refuse a target that is not a forced state, and a TTL that is not a positive duration."""
    if target not in get_args(ForceTarget):
        raise ValueError(
            f"cannot force a breaker to {target!r}: one of {', '.join(get_args(ForceTarget))}"
        )
    if ttl_s is not None and (target == "auto" or not ttl_s > 0):
        raise ValueError("ttl_s must be a positive number of seconds, for a forced state only")


@dataclass(frozen=True, slots=True)
class Forcing:
    state: BreakerState
    ttl_s: float | None
    until: float | None  # monotonic
    until_at: datetime | None  # the same instant, in UTC
    reason: str
    actor: str

    @classmethod
    def begin(
        cls, target: ForceTarget, *, ttl_s: float | None, reason: str, actor: str, clock: Clock
    ) -> Forcing:
        if ttl_s is None:
            return cls(BreakerState(target), None, None, None, reason, actor)
        until = clock.monotonic() + ttl_s
        until_at = clock.now() + timedelta(seconds=ttl_s)
        return cls(BreakerState(target), ttl_s, until, until_at, reason, actor)

    def has_expired(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def retry_after(self, now: float) -> float | None:
        """Seconds until a forced-open breaker lets calls through; None without a TTL."""
        return None if self.until is None else max(0.0, self.until - now)

    def describe(self) -> str:
        ttl = "" if self.ttl_s is None else f" for {self.ttl_s:g}s"
        return _because(f"forced{ttl}", self.actor, self.reason)

    def describe_expiry(self) -> str:
        return f"{self.state} expired after {self.ttl_s:g}s" + (
            f" (forced by {self.actor})" if self.actor else ""
        )


def lifted(actor: str, reason: str) -> str:
    """The reason recorded when an operator hands a breaker back to automatic."""
    return _because("returned to automatic", actor, reason)


def _because(what: str, actor: str, reason: str) -> str:
    by = f" by {actor}" if actor else ""
    return f"{what}{by}: {reason}" if reason else f"{what}{by}"
