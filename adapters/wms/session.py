"""The one Fishbowl login a backend shares across all its pooled connections.

A Fishbowl ticket belongs to the login, not to the socket: any connection may carry it. So the
adapter logs in once and every connection sends the same key. When the server ends the session
(1010/1163/1164), many in-flight calls learn it at once; each invalidates the key *it used*, and
the first to take the lock logs in while the rest wait and reuse the new key: a burst of expired
calls costs one login, not one per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["Ticket"]


class Ticket:
    def __init__(self) -> None:
        self.key: str | None = None
        #: Successful logins so far (operators and tests watch re-logins with it).
        self.logins = 0
        self._lock = asyncio.Lock()

    async def get(self, login: Callable[[], Awaitable[str]]) -> str:
        """The current key, logging in first if there is none (one login at a time)."""
        key = self.key
        if key is not None:
            return key
        async with self._lock:
            if self.key is None:
                self.key = await login()
                self.logins += 1
            return self.key

    def invalidate(self, key: str) -> None:
        """Forget ``key`` if it is still current (a newer login is kept)."""
        if self.key == key:
            self.key = None

    def clear(self) -> str | None:
        key, self.key = self.key, None
        return key
