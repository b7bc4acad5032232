"""Keep secrets out of everything the gateway writes: logs, problems, operators' views.

Three nets, because each misses what another catches:

- **configured secret values** (every ``Secret`` in the settings: backend passwords, the JWT
  secret, ops tokens, a Redis password) are replaced wherever they appear inside a string;
- **sensitive names**: the value of any key named like ``password``, ``secret``, ``token``,
  ``api_key``, ``authorization``, ``cookie`` or ``credentials`` is masked whole;
- **credential shapes**: ``Bearer …``/``Basic …`` and JWT-looking strings are masked in any text.

:func:`redact` applies all three to any JSON-like value (the ops endpoints use it);
:func:`scrub_processor` is the structlog processor that applies it to every event before it is
rendered. The process keeps one registry (:data:`REDACTOR`): logging is process-wide too.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from facade.settings.secret import Secret

__all__ = [
    "MASK",
    "REDACTOR",
    "Redactor",
    "redact",
    "remember_secrets",
    "scrub_processor",
    "scrubbed",
]

MASK = "***"
_SENSITIVE_NAME = re.compile(
    r"(?i)(?:^|[_-])(?:pass(?:word|wd)?|secret|token|api[-_]?key|authorization|cookie|"
    r"set-cookie|credentials?)(?:$|[_-])"
)
# Case matters for "Basic" (a common English word); header values are written capitalised.
_CREDENTIAL_TEXT = re.compile(r"\b(Bearer|bearer|BEARER|Basic|BASIC)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT_TEXT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_MIN_SECRET = 4  # shorter values would mask ordinary words


class Redactor:
    def __init__(self) -> None:
        self._secrets: list[str] = []

    def remember(self, values: Iterable[str | None]) -> None:
        """Mask these exact values from now on (longest first, so none is half-masked), and
        each as a JSON string writes it: lines scrubbed as rendered JSON (the access log) hold
        a quote, a backslash or a control character escaped."""
        known = set(self._secrets)
        for value in values:
            if value and len(value) >= _MIN_SECRET:
                known.add(value)
                known.add(orjson.dumps(value).decode()[1:-1])
        self._secrets = sorted(known, key=len, reverse=True)

    def forget_all(self) -> None:
        self._secrets = []

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if "earer" in value or "Basic" in value or "BEARER" in value or "BASIC" in value:
            value = _CREDENTIAL_TEXT.sub(lambda m: f"{m.group(1)} {MASK}", value)
        if "eyJ" in value:
            value = _JWT_TEXT.sub(MASK, value)
        return value

    def redact(self, value: Any, _depth: int = 0) -> Any:
        """A copy of ``value`` with every secret masked (dicts, lists, tuples, strings)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Secret):
            return MASK
        if _depth > 32:
            return value
        if isinstance(value, Mapping):
            return {
                key: (
                    MASK
                    if isinstance(key, str) and _sensitive_name(key) and _present(item)
                    else self.redact(item, _depth + 1)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.redact(item, _depth + 1) for item in value)
        return value


@functools.lru_cache(maxsize=4096)
def _sensitive_name(key: str) -> bool:
    """Whether a field of this name holds a credential (the same few names recur on every line)."""
    return _SENSITIVE_NAME.search(key) is not None


def _present(value: Any) -> bool:
    return value not in (None, "", False, 0) and not isinstance(value, bool)


REDACTOR = Redactor()


def redact(value: Any) -> Any:
    """``value`` with every configured secret, sensitive field and credential masked."""
    return REDACTOR.redact(value)


def scrub_processor(_logger: Any, _method: str, event: Any) -> Any:
    """structlog processor: mask secrets in every event's fields, before rendering."""
    return REDACTOR.redact(event)


def scrubbed(renderer: Any) -> Any:
    """Wrap a structlog renderer so its finished line is scrubbed too (tracebacks included)."""

    def render(logger: Any, method: str, event: Any) -> Any:
        line = renderer(logger, method, event)
        return REDACTOR.text(line) if isinstance(line, str) else line

    return render


def remember_secrets(settings: Any) -> None:
    """Register every ``Secret`` in ``settings`` (and a password in a Redis URL) for masking."""
    found: list[str] = []
    _collect(settings, found, 0)
    redis_url = getattr(getattr(settings, "rate_limit", None), "redis_url", None)
    if redis_url:
        found.append(urlsplit(redis_url).password or "")
    REDACTOR.remember(found)


def _collect(value: Any, found: list[str], depth: int) -> None:
    if depth > 16:
        return
    if isinstance(value, Secret):
        found.append(value.reveal())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for fld in dataclasses.fields(value):
            if not fld.metadata.get("internal"):
                _collect(getattr(value, fld.name), found, depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found, depth + 1)
