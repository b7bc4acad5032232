"""Structured logging: JSON lines for machines, readable lines for people at a terminal.

Every event passes through :func:`facade.redaction.scrub_processor` before rendering and the
rendered line through the redactor again (tracebacks are rendered late), so configured secrets,
credential-named fields and bearer tokens never reach a log line, whoever logged them.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import logging
import select
import sys
import time
from collections.abc import Callable, Hashable, MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import orjson
import structlog

from facade.redaction import REDACTOR, scrub_processor, scrubbed

__all__ = [
    "ACCESS_LINGER_S",
    "ACCESS_LOG",
    "AccessLog",
    "LogThrottle",
    "bind_request",
    "configure_logging",
    "request_context",
    "start_request",
    "write_whole_lines",
]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


#: What every log line of the request being served carries (its id, then its caller). One
#: context variable holding a dict: a request starts with one assignment, not a scan of the
#: context (structlog's ``clear_contextvars``), which matters on a path run thousands of times
#: a second. Tasks a request starts inherit it.
_REQUEST_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar(
    "veneer_request_context", default=None
)


def start_request(request_id: str) -> None:
    """A new request on this task: log lines carry its id, and nothing bound for the last one."""
    _REQUEST_CONTEXT.set({"request_id": request_id})


def bind_request(**fields: Any) -> None:
    """Add ``fields`` to every later log line of the current request."""
    context = _REQUEST_CONTEXT.get()
    if context is None:
        _REQUEST_CONTEXT.set(fields)
    else:
        context.update(fields)


def request_context() -> dict[str, Any]:
    """What the current request's log lines carry (empty outside a request)."""
    return _REQUEST_CONTEXT.get() or {}


def _merge_request_context(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    context = _REQUEST_CONTEXT.get()
    if context:
        for key, value in context.items():
            event.setdefault(key, value)
    return event


_MAX_THROTTLED_KEYS = 1024


class LogThrottle:
    """At most one line per key every ``every_s`` seconds, for events an outage repeats per request.

    While a breaker is open every request is declined the same way; the access line records each
    one, and the warning needs saying once in a while, with how many went unsaid, not two
    thousand times a second.
    """

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._last: dict[Hashable, tuple[float, int]] = {}  # key → (when said, held back since)

    def admit(self, key: Hashable) -> int | None:
        """None: stay quiet this time. Otherwise say it, adding how many were held back."""
        now = self._clock()
        said = self._last.get(key)
        if said is not None and now - said[0] < self.every_s:
            self._last[key] = (said[0], said[1] + 1)
            return None
        if len(self._last) >= _MAX_THROTTLED_KEYS:
            self._last.clear()
        self._last[key] = (now, 0)
        return 0 if said is None else said[1]


def _orjson_dumps(event: dict[str, Any], **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


#: how long a serving gateway's access lines wait to leave together (``run_gateway``'s choice)
ACCESS_LINGER_S = 0.01
#: access lines that leave at once, however short their wait so far
_MAX_PENDING = 256
#: the most bytes one write to a pipe keeps whole, whoever else writes to it (POSIX: >= 512)
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)


class AccessLog:
    """The one line per request, rendered without structlog's processor chain (the hot path).

    In JSON mode the line has what structlog would give it (the event, the bound context such
    as ``request_id`` and ``caller``, level and timestamp), is scrubbed once as rendered text,
    and is written with other lines in one write. By default those are the lines of the same
    event-loop turn, which leave before the loop waits again. A serving gateway lets them
    linger a little (``linger_s``, :data:`ACCESS_LINGER_S`): an uncached read's line finishes
    in a loop turn of its own, so a write per turn was a system call per request; lingering,
    they leave within the linger, or at once when :data:`_MAX_PENDING` are waiting, and what
    waits at the process's exit is written then. Elsewhere (a terminal, or info lines
    filtered out) it defers to structlog.
    """

    def __init__(self) -> None:
        self.stream: TextIO | None = None
        #: seconds a line may wait for others to leave with (0: until the loop turn ends)
        self.linger_s = 0.0
        self._pending: list[str] = []
        self._flushes_at_exit = False
        self._log = structlog.get_logger("veneer.access")
        #: the timestamp's text up to its seconds, and the second it is for
        self._second_text = ""
        self._second = -1

    def configure(self, stream: TextIO | None, linger_s: float = 0.0) -> None:
        """Write JSON lines to ``stream``, each waiting up to ``linger_s`` for others to leave
        with; None hands every line to structlog."""
        self.flush()
        self.stream = stream
        self.linger_s = linger_s
        if linger_s > 0 and not self._flushes_at_exit:
            atexit.register(self.flush)
            self._flushes_at_exit = True

    def write(
        self, event: str, fields: dict[str, Any], context: dict[str, Any] | None = None
    ) -> None:
        """Write the line of ``event``; ``context`` is what it carries besides ``fields`` (the
        current request's context, as every log line, when None)."""
        if context is None:
            context = request_context()
        self.emit({"event": event, **context, **fields})

    def emit(self, line: dict[str, Any]) -> None:
        """Write ``line``: its ``event``, then what :meth:`write` puts together (the hot path's
        way in, which builds the whole line at once)."""
        stream = self.stream
        if stream is None:
            fields = dict(line)
            self._log.info(fields.pop("event"), **fields)
            return
        line["level"] = "info"
        line["ts"] = self._timestamp()
        self._queue(stream, orjson.dumps(line, default=str).decode())

    def emit_json(self, opened: str) -> None:
        """Write a line already rendered as JSON but for its closing fields: ``opened`` is
        ``{"event":...,`` up to and including the comma after its last field, and the level
        and timestamp close it, as :meth:`emit` would. Only with a stream: lines that go
        through structlog need their fields (:meth:`emit`)."""
        stream = self.stream
        if stream is None:
            raise RuntimeError("no JSON stream: write the line's fields with emit()")
        self._queue(stream, f'{opened}"level":"info","ts":"{self._timestamp()}"}}')

    def _queue(self, stream: TextIO, text: str) -> None:
        pending = self._pending
        if not pending:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: write now
                stream.write(REDACTOR.text(text) + "\n")
                return
            if self.linger_s > 0:
                loop.call_later(self.linger_s, self.flush)
            else:
                loop.call_soon(self.flush)
        pending.append(text)
        if len(pending) >= _MAX_PENDING:
            self.flush()

    def _timestamp(self) -> str:
        """The time as ISO 8601 UTC to the millisecond; the date and time of day are formatted
        once per second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            moment = dt.datetime.fromtimestamp(second, dt.UTC)
            self._second_text = moment.strftime("%Y-%m-%dT%H:%M:%S.")
            self._second = second
        return f"{self._second_text}{int((now - second) * 1000):03d}Z"

    def flush(self) -> None:
        if self._pending and self.stream is not None:
            lines, self._pending = self._pending, []
            # Scrubbed as one text: the same secrets masked, one pass instead of one per line.
            write_whole_lines(self.stream, REDACTOR.text("\n".join(lines)) + "\n")


def write_whole_lines(stream: TextIO, text: str) -> None:
    """Write ``text`` (whole lines) so that no other process writing the same file or pipe can
    land inside a line: in writes of whole lines of at most ``PIPE_BUF`` bytes, each of which
    the kernel keeps whole (the workers of ``serve --workers N`` share one stderr). A line
    longer than that goes alone, in one write. A stream without a byte buffer (in memory)
    takes the text as it is."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # what the text layer holds goes first
    data = text.encode(stream.encoding or "utf-8", stream.errors or "strict")
    start, size = 0, len(data)
    while start < size:
        end = start + _PIPE_BUF
        if end < size:
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else (data.find(b"\n", end) + 1 or size)
        raw.write(data[start:end])
        raw.flush()
        start = end


ACCESS_LOG = AccessLog()


def configure_logging(
    level: str = "info",
    fmt: str = "auto",
    stream: TextIO | None = None,
    *,
    access_linger_s: float = 0.0,
) -> None:
    """Configure structlog once for the process.

    ``fmt="auto"`` writes console output when ``stream`` is a terminal and JSON lines otherwise,
    so a developer's terminal is readable and a log shipper gets one object per line.
    ``access_linger_s``: how long access lines wait to leave together (:class:`AccessLog`).
    """
    stream = stream or sys.stderr
    json_lines = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _merge_request_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.format_exc_info
            if json_lines
            else structlog.processors.StackInfoRenderer(),
            scrub_processor,
            scrubbed(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        # One write per line (print() writes the newline apart): the workers of `serve
        # --workers N` share one stderr, and two halves of lines would interleave.
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(level, stream, renderer, json_lines)
    ACCESS_LOG.configure(
        stream if json_lines and _LEVELS[level] <= logging.INFO else None, access_linger_s
    )


def _route_standard_logging(level: str, stream: TextIO, renderer: Any, json_lines: bool) -> None:
    """Libraries' own log records (aiohttp's "Error handling request" quotes the bad header
    line, credentials included) are rendered like ours, and scrubbed like ours."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info
                if json_lines
                else structlog.processors.StackInfoRenderer(),
                scrub_processor,
                scrubbed(renderer),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_veneer", False)]
    handler._veneer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(_LEVELS[level])
