"""Structured logging: JSON lines for machines, readable lines for people at a terminal.

Every event passes through :func:`facade.redaction.scrub_processor` before rendering and the
rendered line through the redactor again (tracebacks are rendered late), so configured secrets,
credential-named fields and bearer tokens never reach a log line, whoever logged them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from typing import Any, TextIO

import orjson
import structlog

from facade.redaction import REDACTOR, scrub_processor, scrubbed

__all__ = ["ACCESS_LOG", "AccessLog", "configure_logging"]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _orjson_dumps(event: dict[str, Any], **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


class AccessLog:
    """The one line per request, rendered without structlog's processor chain (the hot path).

    In JSON mode the line has what structlog would give it (the event, the bound context such
    as ``request_id`` and ``caller``, level and timestamp), is scrubbed once as rendered text,
    and is written with the other lines of the same event-loop turn in one write: under load
    that is one system call for many requests, and the lines still leave before the loop
    waits again. Elsewhere (a terminal, or info lines filtered out) it defers to structlog.
    """

    def __init__(self) -> None:
        self.stream: TextIO | None = None
        self._pending: list[str] = []
        self._log = structlog.get_logger("veneer.access")

    def configure(self, stream: TextIO | None) -> None:
        """Write JSON lines to ``stream``; None hands every line to structlog."""
        self.flush()
        self.stream = stream

    def write(self, event: str, fields: dict[str, Any]) -> None:
        stream = self.stream
        if stream is None:
            self._log.info(event, **fields)
            return
        line = {"event": event, **structlog.contextvars.get_contextvars(), **fields}
        line["level"] = "info"
        line["ts"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        text = REDACTOR.text(orjson.dumps(line, default=str).decode())
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                stream.write(text + "\n")
                return
        self._pending.append(text)

    def flush(self) -> None:
        if self._pending and self.stream is not None:
            lines, self._pending = self._pending, []
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


ACCESS_LOG = AccessLog()


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog once for the process.

    ``fmt="auto"`` writes console output when ``stream`` is a terminal and JSON lines otherwise,
    so a developer's terminal is readable and a log shipper gets one object per line.
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
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.format_exc_info
            if json_lines
            else structlog.processors.StackInfoRenderer(),
            scrub_processor,
            scrubbed(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(level, stream, renderer, json_lines)
    ACCESS_LOG.configure(stream if json_lines and _LEVELS[level] <= logging.INFO else None)


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
