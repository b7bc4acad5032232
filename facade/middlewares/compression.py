"""Compress JSON answers with brotli or gzip, as the client's Accept-Encoding prefers.

Small bodies are sent as they are: below about a kilobyte compression costs more than it saves.
aiohttp's own ``enable_compression`` does not speak brotli on the server side, hence this.

A cached answer is the same bytes object on every hit, so its compressed forms are kept in a
small LRU keyed by those bytes: a hot cached GET is compressed once, not once per request.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict

import brotli
from aiohttp import web

__all__ = ["choose_encoding", "compress", "compress_for", "compressed", "compressible"]

MIN_SIZE = 1024
_REMEMBERED = 256  # compressed bodies kept, each of a body of at most _REMEMBER_BELOW bytes
_REMEMBER_BELOW = 256 * 1024
_compressed: OrderedDict[tuple[bytes, str], bytes] = OrderedDict()
_COMPRESSIBLE = ("application/json", "application/problem+json", "text/", "application/javascript")


def _accepted(header: str) -> dict[str, float]:
    accepted: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name:
            accepted[name.strip().lower()] = quality
    return accepted


def choose_encoding(header: str | None) -> str | None:
    if not header:
        return None
    accepted = _accepted(header)
    for coding in ("br", "gzip"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def compress(request: web.Request, response: web.StreamResponse) -> None:
    """Compress ``response`` in place when it is worth it and the client accepts an encoding."""
    compress_for(request.headers.get("Accept-Encoding"), response)


def compress_for(accept_encoding: str | None, response: web.StreamResponse) -> None:
    """:func:`compress` for a client that sent ``accept_encoding`` (None: no such header)."""
    if not isinstance(response, web.Response):
        return
    body = response.body
    if (
        not isinstance(body, bytes)
        or "Content-Encoding" in response.headers
        or not compressible(body, response.content_type)
    ):
        return
    response.headers.add("Vary", "Accept-Encoding")
    coding = choose_encoding(accept_encoding)
    if coding is None:
        return
    response.body = compressed(body, coding)
    response.headers["Content-Encoding"] = coding


def compressible(body: bytes, content_type: str) -> bool:
    """Whether an answer of this body and type is worth compressing (and so varies by
    Accept-Encoding, whatever this client accepts)."""
    return len(body) >= MIN_SIZE and content_type.startswith(_COMPRESSIBLE)


def compressed(body: bytes, coding: str) -> bytes:
    """``body`` in ``coding`` (br or gzip), from the LRU when these bytes were compressed lately."""
    key = (body, coding)
    found = _compressed.get(key)
    if found is not None:
        _compressed.move_to_end(key)
        return found
    if coding == "br":
        found = brotli.compress(body, quality=4)
    else:
        found = gzip.compress(body, compresslevel=5, mtime=0)
    if len(body) > _REMEMBER_BELOW:
        return found
    _compressed[key] = found
    if len(_compressed) > _REMEMBERED:
        _compressed.popitem(last=False)
    return found
