"""HTTP for the HTTP-speaking adapters (SOAP, XML-RPC): one pooled client, exact timeouts, capped replies.

The transport is the adapters' test seam: :class:`HttpTransport` is one method, ``post``, so unit
tests pass a :class:`RecordedTransport` that answers from a function, and integration tests the
real :class:`AiohttpTransport` against real sockets. aiohttp's errors are translated into the
adapter error tree here and nowhere else.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import aiohttp
from yarl import URL

from adapters.base import AdapterContext
from adapters.errors import (
    AdapterError,
    BackendTimeout,
    BackendUnavailable,
    ConnectFailed,
    ProtocolError,
)

__all__ = [
    "AiohttpTransport",
    "HttpReply",
    "HttpTransport",
    "RecordedTransport",
    "raise_for_unavailable",
]

_CHUNK = 64 * 1024
_KNOWN_URLS = 256  # parsed URLs kept per transport: a backend posts to a handful of them
_UNAVAILABLE = {429, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class HttpTransport(Protocol):
    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float | None = None
    ) -> HttpReply: ...

    async def get(self, url: str, *, timeout: float | None = None) -> HttpReply: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One pooled aiohttp session for one backend.

    Timeouts are exact: aiohttp rounds a deadline up to the next whole second when it exceeds
    ``ceil_threshold``, so the threshold is set to infinity, and the whole call additionally
    runs under ``asyncio.timeout``. Replies larger than ``max_reply_bytes`` are refused while
    streaming, before they are held in memory.
    """

    def __init__(
        self,
        *,
        backend: str,
        connect_timeout: float,
        read_timeout: float,
        max_reply_bytes: int = 16 * 1024 * 1024,
        pool_size: int = 64,
    ) -> None:
        self.backend = backend
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_reply_bytes = max_reply_bytes
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    @classmethod
    def for_backend(cls, context: AdapterContext, *, max_reply_bytes: int) -> AiohttpTransport:
        """The pooled transport an HTTP adapter uses, with its backend's timeouts."""
        return cls(
            backend=context.backend,
            connect_timeout=context.connect_timeout,
            read_timeout=context.read_timeout,
            max_reply_bytes=max_reply_bytes,
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.connect_timeout,
                    sock_read=self.read_timeout,
                    ceil_threshold=math.inf,
                ),
                auto_decompress=True,
                # The session serves every client's calls: a cookie one reply set would ride
                # along on everyone's next call. Backends are called statelessly (and the jar's
                # bookkeeping cost about 6% of each call).
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": "veneer"},
            )
        return self._session

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float | None = None
    ) -> HttpReply:
        return await self._request("POST", url, body, headers, timeout)

    async def get(self, url: str, *, timeout: float | None = None) -> HttpReply:
        return await self._request("GET", url, None, {}, timeout)

    async def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None,
    ) -> HttpReply:
        limit = self.connect_timeout + self.read_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                async with self._client().request(
                    method, self._url(url), data=body, headers=headers
                ) as response:
                    payload = await self._read_capped(response)
                    return HttpReply(response.status, payload, dict(response.headers))
        except AdapterError:
            raise
        except TimeoutError as exc:
            # Say which limit fired: operators tune the one that did.
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                reason = f"no connection within the {self.connect_timeout:.3f}s connect timeout"
            elif isinstance(exc, aiohttp.ServerTimeoutError):
                reason = f"no data within the {self.read_timeout:.3f}s read timeout"
            else:
                reason = f"no reply within the call's {limit:.3f}s deadline"
            raise BackendTimeout(reason, backend=self.backend) from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectFailed(f"cannot connect: {exc.os_error}", backend=self.backend) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise ConnectFailed(f"connection lost: {exc}", backend=self.backend) from exc
        except aiohttp.ClientPayloadError as exc:
            raise ProtocolError(f"malformed HTTP body: {exc}", backend=self.backend) from exc
        except aiohttp.ClientResponseError as exc:
            raise ProtocolError(
                f"malformed HTTP reply: {exc.message}", backend=self.backend
            ) from exc
        except aiohttp.ClientError as exc:
            raise ConnectFailed(f"HTTP client error: {exc}", backend=self.backend) from exc

    def _url(self, url: str) -> URL:
        """``url`` parsed once: aiohttp would parse the string again on every call."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _KNOWN_URLS:
                self._urls.clear()
            parsed = self._urls[url] = URL(url)
        return parsed

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        if declared is not None:
            if declared > self.max_reply_bytes:
                raise ProtocolError(
                    f"reply of {declared} bytes exceeds the {self.max_reply_bytes}-byte cap",
                    backend=self.backend,
                )
            if "Content-Encoding" not in response.headers:
                # The length is known and within the cap, and nothing will inflate it: one read.
                return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_reply_bytes:
                response.close()
                raise ProtocolError(
                    f"reply exceeds the {self.max_reply_bytes}-byte cap", backend=self.backend
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Handler = Callable[[str, str, bytes, Mapping[str, str]], Awaitable[HttpReply]]


class RecordedTransport:
    """A transport that answers from a function: the seam for unit tests with recorded bytes."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[str, str, bytes, Mapping[str, str]]] = []

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float | None = None
    ) -> HttpReply:
        self.requests.append(("POST", url, body, headers))
        return await self.handler("POST", url, body, headers)

    async def get(self, url: str, *, timeout: float | None = None) -> HttpReply:
        self.requests.append(("GET", url, b"", {}))
        return await self.handler("GET", url, b"", {})

    async def close(self) -> None:
        return None


def raise_for_unavailable(reply: HttpReply, *, backend: str, operation: str = "") -> None:
    """Raise :class:`BackendUnavailable` for 429/502/503/504, carrying Retry-After if given."""
    if reply.status in _UNAVAILABLE:
        raise BackendUnavailable(
            f"HTTP {reply.status}",
            backend=backend,
            operation=operation,
            code=reply.status,
            retry_after=retry_after_seconds(reply.headers.get("Retry-After")),
        )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After (delta-seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
