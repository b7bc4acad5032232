"""Odoo's uid, obtained once however many calls need it at the same moment.

Odoo has no sessions over XML-RPC: every ``execute_kw`` carries the database, uid and password
again. The uid comes from one ``authenticate`` call, made lazily by the first call that needs it
(the gateway must start while the CRM is down). Concurrent first calls share that one request:
the login runs as its own task, and each caller waits for it through ``asyncio.shield``, so a
caller that is cancelled or runs out of time does not cancel the login the others wait for.
A failed login is not remembered: the next call tries again.

When Odoo refuses a uid mid-session (fault 3: the API key was rotated, the user recreated),
the caller hands back the :class:`Session` it used; only if it is still the current one is it
dropped, so ten calls refused at once cause one new login, not ten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Login", "Session"]


@dataclass(frozen=True, eq=False, slots=True)
class Session:
    """One successful login; compared by identity, so a re-login is a new session."""

    uid: int


class Login:
    """Single-flight authentication around ``authenticate`` (which returns a uid or raises)."""

    def __init__(self, authenticate: Callable[[], Awaitable[int]]) -> None:
        self._authenticate = authenticate
        self._session: Session | None = None
        self._pending: asyncio.Task[Session] | None = None

    @property
    def current(self) -> Session | None:
        return self._session

    async def session(self, wait: float | None = None) -> Session:
        """The current session, logging in first if there is none; wait at most ``wait`` s."""
        if self._session is not None:
            return self._session
        if self._pending is None:
            self._pending = asyncio.get_running_loop().create_task(self._login())
        async with asyncio.timeout(wait):
            return await asyncio.shield(self._pending)

    def invalidate(self, stale: Session) -> None:
        """Forget ``stale`` if it is still the current session (Odoo refused its uid)."""
        if self._session is stale:
            self._session = None

    async def close(self) -> None:
        """Stop a login in flight; the next call (if any) logs in again."""
        pending, self._pending = self._pending, None
        self._session = None
        if pending is not None:
            pending.cancel()
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()  # retrieved: nobody else will ask for it

    async def _login(self) -> Session:
        try:
            session = Session(await self._authenticate())
            self._session = session
            return session
        finally:
            self._pending = None
