"""Refuse requests whose header values carry control characters, before anything reads them.

aiohttp's parser already caps line and header sizes (see ``facade.server``) and refuses most
malformed headers; this is the gateway's own rule on top, independent of which parser (C or
pure Python) is in use: no NUL, CR, LF or other control character (only tab) in any value, so
nothing downstream (a log line, a header a backend receives, a template) can be split or
smuggled by one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

from aiohttp import web

from facade.problems import Problem

__all__ = ["carries_control_characters", "guard_headers"]

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NAME_SHOWN = re.compile(r"[^A-Za-z0-9-]")


def guard_headers(request: web.Request) -> None:
    """Raise a 400 ``invalid_header`` problem naming the first header with a control character."""
    raw = request.raw_headers
    if not carries_control_characters(raw):
        return
    for name, value in raw:
        if _CONTROL.search(value) or _CONTROL.search(name):
            shown = _NAME_SHOWN.sub("", name.decode("latin-1"))[:64] or "a"
            raise Problem(
                400,
                "invalid_header",
                "Invalid header",
                f"The {shown} header carries control characters.",
            )


def carries_control_characters(raw: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether any header name or value in ``raw`` carries a control character (one scan)."""
    return _CONTROL.search(b"".join(chain.from_iterable(raw))) is not None
