"""Give every request an id: the client's X-Request-ID if it is sane, a fresh one otherwise."""

from __future__ import annotations

import itertools
import os
import re

from aiohttp import web

__all__ = ["REQUEST_ID_HEADER", "request_id_for", "request_id_from"]

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # no spaces, quotes or control characters


#: Fresh ids are unique, not secret: 12 random hex digits drawn once per process (a restart or
#: another worker draws others), then a counter. Twenty-four hex digits, as before, without a
#: system call for randomness on every request.
_PROCESS_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def request_id_for(request: web.Request) -> str:
    """The id this request is known by in logs, problems and the answer's X-Request-ID."""
    return request_id_from(request.headers.get(REQUEST_ID_HEADER))


def request_id_from(offered: str | None) -> str:
    """The client's ``offered`` id if it is sane, a fresh one otherwise."""
    if offered is not None and _ACCEPTABLE.fullmatch(offered):
        return offered
    return f"{_PROCESS_PREFIX}{next(_COUNTER):012x}"
