"""NAV's ``Key``: the opaque record token that doubles as an optimistic-concurrency check.

NAV's Keys look like ``32;GAAAAACLAQAAAAJ7/1MATwAtADEAMAAwADAAMAAx8;1234567890;``: a length, a
base64 bookmark of the record's primary key, a trailing digit, and the record's SQL ``timestamp``
(a rowversion that changes on every write). Clients must treat a Key as opaque, send it back on
Update and Delete, and use it as ``bookmarkKey`` for paging. This module writes
and reads tokens of that shape (the trailing digit is a check digit here), so a client that keeps
an old Key gets the stale-record fault NAV gives it.

Bookmark bytes: table number as int32 little-endian, then per key field either an integer
(``00 8B`` + int32 LE) or a code (``02 7B`` + length byte + UTF-16LE).
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

__all__ = [
    "ITEM_TABLE",
    "SALES_HEADER_TABLE",
    "SALES_LINE_TABLE",
    "InvalidKey",
    "RecordKey",
    "decode_key",
    "encode_key",
]

ITEM_TABLE = 27
SALES_HEADER_TABLE = 36
SALES_LINE_TABLE = 37

_INT_MARK = b"\x00\x8b"
_CODE_MARK = b"\x02\x7b"
_MAX_CODE = 250


class InvalidKey(ValueError):
    """A string that is not a Key this ERP handed out."""


@dataclass(frozen=True, slots=True)
class RecordKey:
    """What a Key identifies: a table, its primary-key values, and the version it was read at."""

    table: int
    fields: tuple[int | str, ...]
    version: int


def encode_key(key: RecordKey) -> str:
    """Render ``key`` as a NAV-looking Key string."""
    raw = bytearray(struct.pack("<i", key.table))
    for value in key.fields:
        if isinstance(value, int):
            raw += _INT_MARK + struct.pack("<i", value)
        else:
            if len(value) > _MAX_CODE:
                raise ValueError(f"a key field holds at most {_MAX_CODE} characters")
            raw += _CODE_MARK + bytes((len(value),)) + value.encode("utf-16-le")
    bookmark = base64.b64encode(bytes(raw)).decode("ascii")
    return f"{len(bookmark)};{bookmark}{_check_digit(raw)};{key.version};"


def decode_key(text: str) -> RecordKey:
    """Read a Key back; raise :class:`InvalidKey` for anything this ERP could not have written."""
    parts = text.strip().split(";")
    if len(parts) != 4 or parts[3] != "" or not parts[0].isdigit() or not parts[2].isdigit():
        raise InvalidKey(f"not a record key: {text!r}")
    length = int(parts[0])
    bookmark, check = parts[1][:length], parts[1][length:]
    try:
        raw = base64.b64decode(bookmark, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(f"the bookmark in {text!r} is not base64") from None
    if len(bookmark) != length or check != str(_check_digit(raw)):
        raise InvalidKey(f"the bookmark in {text!r} is damaged")
    return RecordKey(table=_table(raw, text), fields=_fields(raw, text), version=int(parts[2]))


def _check_digit(raw: bytes | bytearray) -> int:
    return sum(raw) % 10


def _table(raw: bytes, text: str) -> int:
    if len(raw) < 4:
        raise InvalidKey(f"the bookmark in {text!r} names no table")
    table: int = struct.unpack_from("<i", raw)[0]
    return table


def _fields(raw: bytes, text: str) -> tuple[int | str, ...]:
    fields: list[int | str] = []
    at = 4
    try:
        while at < len(raw):
            mark, at = raw[at : at + 2], at + 2
            if mark == _INT_MARK:
                fields.append(struct.unpack_from("<i", raw, at)[0])
                at += 4
            elif mark == _CODE_MARK:
                size = raw[at] * 2
                value = raw[at + 1 : at + 1 + size]
                if len(value) != size:
                    raise InvalidKey(f"the bookmark in {text!r} is truncated")
                fields.append(value.decode("utf-16-le"))
                at += 1 + size
            else:
                raise InvalidKey(f"the bookmark in {text!r} has an unknown field type")
    except (struct.error, IndexError, UnicodeDecodeError):
        raise InvalidKey(f"the bookmark in {text!r} is truncated") from None
    return tuple(fields)
