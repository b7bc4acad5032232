"""How an answer is represented: sparse fieldsets, canonical JSON, strong ETags, conditional GETs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import orjson

from adapters.mapping.converters import MAX_DECIMAL_EXPONENT

__all__ = [
    "canonical_json",
    "etag_for",
    "if_match_token",
    "not_modified",
    "select_fields",
    "token_etag",
]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # In full ("1234.50"), unless that would be enormous: a backend's 1E+1000000 written
        # out is a megabyte, and 1E+999999999 a gigabyte.
        if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
            return str(value)
        return format(value, "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace: the same data always gives the same bytes (and ETag)."""
    return orjson.dumps(
        data, default=_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    )


def etag_for(body: bytes) -> str:
    """A strong ETag from the representation's bytes."""
    return '"' + base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:18]).decode() + '"'


def token_etag(token: str) -> str:
    """A backend concurrency token (NAV's Key) as a strong ETag, reversible for If-Match."""
    return '"' + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=") + '"'


def if_match_token(header: str) -> str | None:
    """The backend token inside an If-Match header made by :func:`token_etag`, or None."""
    value = header.strip()
    if (
        value.startswith("W/")
        or not (value.startswith('"') and value.endswith('"'))
        or "," in value
    ):
        return None
    raw = value[1:-1]
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison for If-None-Match (``*`` matches any current representation)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag.removeprefix("W/") in set(candidates)


def select_fields(data: Any, fields: Iterable[str]) -> tuple[Any, list[str]]:
    """Keep only the named top-level fields (of the object, or of each item of a list).

    Dotted names select inside objects (``customer.name``). Returns the trimmed data and the
    names that matched nothing in any item, so the caller can reject typos.
    """
    wanted = [f for f in fields if f]
    tree: dict[str, Any] = {}
    for name in wanted:
        node = tree
        for part in name.split("."):
            node = node.setdefault(part, {})
    seen: set[str] = set()

    def pick(obj: Any, node: Mapping[str, Any], prefix: str) -> Any:
        if not isinstance(obj, Mapping):
            return obj
        out: dict[str, Any] = {}
        for key, sub in node.items():
            if key in obj:
                seen.add(prefix + key)
                out[key] = pick(obj[key], sub, prefix + key + ".") if sub else obj[key]
        return out

    if isinstance(data, list):
        result: Any = [pick(item, tree, "") for item in data]
    else:
        result = pick(data, tree, "")
    unknown = [name for name in wanted if name not in seen]
    if isinstance(data, list) and not data:
        unknown = []  # an empty page cannot tell a typo from a real field
    return result, unknown
