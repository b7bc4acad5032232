"""What travels inside a frame: JSON, XML or plain text, each as a small two-way codec.

Decoding a reply raises :class:`PayloadError` (the backend sent something that is not the
protocol); encoding a request raises :class:`PayloadEncodeError` (the params cannot be sent).
The adapters translate both in their one error function.
"""

from __future__ import annotations

import codecs
from decimal import Decimal
from typing import Any, Protocol

import orjson

from adapters.wms.xmltree import XmlRejected, parse_xml, render_xml

__all__ = [
    "JsonCodec",
    "PayloadCodec",
    "PayloadEncodeError",
    "PayloadError",
    "TextCodec",
    "XmlCodec",
]


class PayloadError(ValueError):
    """A reply payload that does not parse, or that carries something hostile."""


class PayloadEncodeError(ValueError):
    """Request params that this payload format cannot represent."""


class PayloadCodec(Protocol):
    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...


def _json_default(value: Any) -> Any:
    # Quantities and prices arrive as Decimal from the facade's converters; a JSON number is
    # what a legacy JSON peer expects, and float is exact for the magnitudes such fields carry.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JsonCodec:
    """orjson both ways; dates and datetimes are written as ISO 8601."""

    def encode(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value, default=_json_default)
        except orjson.JSONEncodeError as exc:
            raise PayloadEncodeError(f"params are not JSON: {exc}") from None

    def decode(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise PayloadError(f"reply is not JSON: {exc}") from None


class XmlCodec:
    """Plain trees as XML (see :mod:`adapters.wms.xmltree`), parsed with the hardened parser.

    ``allow_doctype`` lets a bare ``<!DOCTYPE Root>`` through in replies; ``doctype`` writes one
    in requests (Fishbowl's FbiXml has it). Declarations inside a DOCTYPE are never accepted.
    """

    def __init__(self, *, allow_doctype: bool = False, doctype: bool = False) -> None:
        self.allow_doctype = allow_doctype
        self.doctype = doctype

    def encode(self, value: Any) -> bytes:
        try:
            return render_xml(value, doctype=self.doctype)
        except (ValueError, TypeError) as exc:
            raise PayloadEncodeError(f"params are not an XML tree: {exc}") from None

    def decode(self, data: bytes) -> dict[str, Any]:
        try:
            return parse_xml(data, allow_doctype=self.allow_doctype)
        except XmlRejected as exc:
            raise PayloadError(f"reply refused: {exc}") from None


class TextCodec:
    """Text in one encoding (``latin-1`` suits HL7 and most pre-Unicode systems)."""

    def __init__(self, encoding: str = "utf-8") -> None:
        codecs.lookup(encoding)  # LookupError now, at configuration time, not on first call
        self.encoding = encoding

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise PayloadEncodeError(f"text payload must be a string, got {type(value).__name__}")
        try:
            return value.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise PayloadEncodeError(
                f"text is not representable in {self.encoding}: {exc}"
            ) from None

    def decode(self, data: bytes) -> str:
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise PayloadError(f"reply is not {self.encoding} text: {exc}") from None
