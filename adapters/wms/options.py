"""The ``options:`` blocks of the ``fishbowl`` and ``framed-tcp`` kinds, and the codecs they build.

Both are frozen dataclasses the gateway binds from YAML; field metadata gives the help text and
bounds, and ``__post_init__`` rejects combinations that cannot work, so a bad block is reported
at ``backends.<name>.options`` when the config loads, never on the first call.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Literal

from adapters.wms.framing import (
    DEFAULT_MAX_FRAME,
    FixedLengthCodec,
    FrameCodec,
    LengthPrefixCodec,
)
from adapters.wms.markers import DelimiterCodec, mllp, stx_etx
from adapters.wms.payload import JsonCodec, PayloadCodec, TextCodec, XmlCodec

__all__ = ["FishbowlOptions", "FramedTcpOptions", "frame_codec", "payload_codec"]

_MAX_FRAME_LIMIT = 256 * 1024 * 1024


def _max_frame() -> int:
    return field(
        default=DEFAULT_MAX_FRAME,
        metadata={
            "ge": 1,
            "le": _MAX_FRAME_LIMIT,
            "help": "largest frame accepted, in bytes; a longer reply is a protocol error",
        },
    )


def _pool_size(default: int) -> int:
    return field(
        default=default,
        metadata={
            "ge": 1,
            "le": 256,
            "help": "connections held open; one request on each at a time",
        },
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class FishbowlOptions:
    app_id: int = field(
        metadata={
            "ge": 0,
            "help": "IAID: the integrated application's id, approved once in Fishbowl",
        }
    )
    app_name: str = field(
        default="veneer", metadata={"help": "IAName shown to the Fishbowl administrator"}
    )
    app_description: str = field(
        default="veneer integration gateway",
        metadata={"help": "IADescription shown to the Fishbowl administrator"},
    )
    password_encoding: Literal["md5-base64", "plain"] = field(
        default="md5-base64",
        metadata={"help": "how UserPassword is sent: base64 MD5 (Fishbowl SDK) or plain text"},
    )
    dialect: Literal["json", "xml"] = field(
        default="json", metadata={"help": "FbiJson or FbiXml payloads"}
    )
    allow_doctype: bool = field(
        default=True,
        metadata={"help": "accept the bare <!DOCTYPE FbiXml> of XML replies (never entities)"},
    )
    pool_size: int = _pool_size(4)
    max_frame: int = _max_frame()
    extra_operations: tuple[str, ...] = field(
        default=(),
        metadata={"help": "more Fishbowl messages to expose, without the Rq suffix (e.g. UOM)"},
    )
    extra_read_only: tuple[str, ...] = field(
        default=(),
        metadata={"help": "which of extra_operations change nothing (safe to retry)"},
    )
    logout_on_close: bool = field(
        default=True, metadata={"help": "send LogoutRq on shutdown to free the login seat"}
    )

    def __post_init__(self) -> None:
        for name in self.extra_operations:
            if not name.isidentifier() or name.endswith("Rq"):
                raise ValueError(f"extra_operations: {name!r} is not a message name without Rq")
        stray = set(self.extra_read_only) - set(self.extra_operations)
        if stray:
            raise ValueError(f"extra_read_only names unknown operations: {sorted(stray)}")


@dataclass(frozen=True, kw_only=True, slots=True)
class FramedTcpOptions:
    framing: Literal["length-prefix", "delimiter", "stx-etx", "mllp", "fixed"] = field(
        default="length-prefix", metadata={"help": "how frames are delimited on the stream"}
    )
    length_bytes: Literal[1, 2, 4, 8] = field(
        default=4, metadata={"help": "length-prefix: width of the length field"}
    )
    byte_order: Literal["big", "little"] = field(
        default="big", metadata={"help": "length-prefix: byte order of the length field"}
    )
    signed: bool = field(
        default=False, metadata={"help": "length-prefix: the length field is signed"}
    )
    length_includes_header: bool = field(
        default=False,
        metadata={"help": "length-prefix: the length counts the header too (IBM RDW style)"},
    )
    reserved_bytes: int = field(
        default=0,
        metadata={"ge": 0, "le": 8, "help": "length-prefix: zero bytes after the length (RDW: 2)"},
    )
    delimiter: str = field(
        default="\n",
        metadata={"help": 'delimiter: the bytes ending each frame, e.g. "\\r\\n" (double quotes)'},
    )
    checksum: Literal["none", "lrc", "sum8"] = field(
        default="none", metadata={"help": "stx-etx: one checksum byte after ETX"}
    )
    frame_size: int | None = field(
        default=None, metadata={"ge": 1, "help": "fixed: the size of every frame (space-padded)"}
    )
    codec: Literal["json", "xml", "text"] = field(
        default="json", metadata={"help": "what a frame carries"}
    )
    text_encoding: str = field(
        default="utf-8", metadata={"help": "text codec: character encoding (latin-1 for HL7)"}
    )
    allow_doctype: bool = field(
        default=False, metadata={"help": "xml codec: accept a bare <!DOCTYPE> (never entities)"}
    )
    operation_field: str | None = field(
        default="op",
        metadata={
            "help": "json codec: request key carrying the operation; null sends params as-is"
        },
    )
    error_field: str | None = field(
        default=None,
        metadata={"help": "json/xml codec: a reply key whose non-empty value means failure"},
    )
    operations: tuple[str, ...] = field(
        default=(), metadata={"help": "the operations offered; empty: any name is passed through"}
    )
    read_only_operations: tuple[str, ...] = field(
        default=(), metadata={"help": "which operations change nothing (safe to retry)"}
    )
    pool_size: int = _pool_size(4)
    max_frame: int = _max_frame()

    def __post_init__(self) -> None:
        if self.framing == "fixed" and self.frame_size is None:
            raise ValueError("framing: fixed needs frame_size")
        if self.framing != "fixed" and self.frame_size is not None:
            raise ValueError("frame_size applies only to framing: fixed")
        if self.checksum != "none" and self.framing != "stx-etx":
            raise ValueError("checksum applies only to framing: stx-etx")
        if self.framing == "delimiter" and not self.delimiter:
            raise ValueError("delimiter must not be empty")
        if self.error_field is not None and self.codec == "text":
            raise ValueError("error_field needs codec json or xml")
        try:
            codecs.lookup(self.text_encoding)
        except LookupError:
            raise ValueError(f"text_encoding: unknown encoding {self.text_encoding!r}") from None
        stray = set(self.read_only_operations) - set(self.operations)
        if self.operations and stray:
            raise ValueError(f"read_only_operations names unknown operations: {sorted(stray)}")
        frame_codec(self)  # the framing parameters must make a codec


def frame_codec(options: FramedTcpOptions) -> FrameCodec:
    """The framing ``options`` describe."""
    match options.framing:
        case "length-prefix":
            return LengthPrefixCodec(
                length_bytes=options.length_bytes,
                byte_order=options.byte_order,
                signed=options.signed,
                length_includes_header=options.length_includes_header,
                reserved_bytes=options.reserved_bytes,
                max_frame=options.max_frame,
            )
        case "delimiter":
            return DelimiterCodec(
                delimiter=options.delimiter.encode("utf-8"), max_frame=options.max_frame
            )
        case "stx-etx":
            return stx_etx(options.checksum, options.max_frame)
        case "mllp":
            return mllp(options.max_frame)
        case "fixed":
            assert options.frame_size is not None
            return FixedLengthCodec(frame_size=options.frame_size, max_frame=options.max_frame)
    raise ValueError(f"unknown framing {options.framing!r}")


def payload_codec(options: FramedTcpOptions) -> PayloadCodec:
    match options.codec:
        case "json":
            return JsonCodec()
        case "xml":
            return XmlCodec(allow_doctype=options.allow_doctype)
        case "text":
            return TextCodec(options.text_encoding)
    raise ValueError(f"unknown codec {options.codec!r}")
