"""Login tickets, and the ways a Fishbowl session ends under its client.

A ticket lives while it is used: one idle longer than ``idle_s`` (by the injected clock) is
answered 1163 "session timed out"; one logged out, or dropped by the ``drop_session`` fault (an
administrator logging everybody off), is answered 1164. A key the server never issued is 1131 and
a missing key 1130. Ended keys are remembered (up to a bound) so the client learns *why* its
ticket stopped working, which is what tells it to log in again and resend.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.wms.status import FbiError, Status

__all__ = ["Session", "SessionTable"]

_SWEEP_EVERY = 256  # logins between sweeps of idle sessions, so abandoned tickets do not pile up


@dataclass(slots=True)
class Session:
    key: str
    user_id: int
    user_name: str
    last_used: float


class SessionTable:
    def __init__(
        self, idle_s: float, clock: Callable[[], float], *, remember_ended: int = 10_000
    ) -> None:
        if idle_s <= 0:
            raise ValueError(f"session idle timeout must be positive, got {idle_s}")
        self.idle_s = idle_s
        self._clock = clock
        self._remember_ended = remember_ended
        self._live: dict[str, Session] = {}
        self._ended: dict[str, Status] = {}
        self._logins = 0

    def __len__(self) -> int:
        return len(self._live)

    def open(self, user_id: int, user_name: str) -> Session:
        self._logins += 1
        if self._logins % _SWEEP_EVERY == 0:
            self._sweep()
        session = Session(secrets.token_urlsafe(18), user_id, user_name, self._clock())
        self._live[session.key] = session
        return session

    def resolve(self, key: str) -> Session:
        """The live session for ``key``, touched; else :class:`FbiError` saying why not."""
        if not key:
            raise FbiError(Status.INVALID_TICKET)
        session = self._live.get(key)
        if session is None:
            raise FbiError(self._ended.get(key, Status.INVALID_TICKET_KEY))
        now = self._clock()
        if now - session.last_used > self.idle_s:
            self._end(key, Status.SESSION_TIMED_OUT)
            raise FbiError(Status.SESSION_TIMED_OUT)
        session.last_used = now
        return session

    def close(self, key: str) -> None:
        if key in self._live:
            self._end(key, Status.SESSION_LOGGED_OUT)

    def drop_all(self) -> int:
        """End every session open right now (logins after this are unaffected)."""
        keys = list(self._live)
        for key in keys:
            self._end(key, Status.SESSION_LOGGED_OUT)
        return len(keys)

    def _sweep(self) -> None:
        deadline = self._clock() - self.idle_s
        for key in [k for k, s in self._live.items() if s.last_used < deadline]:
            self._end(key, Status.SESSION_TIMED_OUT)

    def _end(self, key: str, reason: Status) -> None:
        self._live.pop(key, None)
        self._ended[key] = reason
        while len(self._ended) > self._remember_ended:
            del self._ended[next(iter(self._ended))]
