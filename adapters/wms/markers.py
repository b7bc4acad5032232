"""Frames marked by bytes instead of lengths: a delimiter (``\\n``), STX/ETX with a checksum, MLLP.

No escaping: a payload holding its framing's end marker cannot be sent (:class:`FrameEncodeError`),
which is how these protocols are used in practice (text lines, HL7 segments). Because the length is
not announced, ``max_frame`` is enforced while the frame grows: once more than ``max_frame`` bytes
have arrived without the end marker, the decoder fails instead of buffering on.

STX/ETX frames are ``STX payload ETX [checksum]``. The optional one-byte checksum covers the
payload and the ETX (not the STX), as in ASTM E1381 and most serial-era protocols: ``lrc`` is
their XOR, ``sum8`` their sum modulo 256. MLLP (HL7's Minimal Lower Layer Protocol) is the same
shape with ``0x0B`` … ``0x1C 0x0D`` and no checksum: see :func:`mllp`.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Literal

from adapters.wms.framing import (
    DEFAULT_MAX_FRAME,
    BufferedDecoder,
    FrameDecoder,
    FrameEncodeError,
)

__all__ = ["Checksum", "DelimiterCodec", "MarkerCodec", "checksum_byte", "mllp", "stx_etx"]

Checksum = Literal["none", "lrc", "sum8"]
STX, ETX = b"\x02", b"\x03"
MLLP_START, MLLP_END = b"\x0b", b"\x1c\x0d"


def checksum_byte(kind: Checksum, data: bytes) -> int:
    """The one-byte checksum ``kind`` of ``data``."""
    if kind == "lrc":
        return functools.reduce(operator.xor, data, 0)
    if kind == "sum8":
        return sum(data) & 0xFF
    raise ValueError(f"no checksum for {kind!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class DelimiterCodec:
    """Each frame ends with ``delimiter`` (``\\n``, ``\\r\\n`` ...), which is not part of it."""

    delimiter: bytes = b"\n"
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        if not self.delimiter:
            raise ValueError("the delimiter must not be empty")

    def encode(self, payload: bytes) -> bytes:
        if self.delimiter in payload:
            raise FrameEncodeError("payload contains the frame delimiter")
        if len(payload) > self.max_frame:
            raise FrameEncodeError(f"payload of {len(payload)} bytes exceeds max_frame")
        return payload + self.delimiter

    def decoder(self) -> FrameDecoder:
        return _MarkerDecoder(b"", self.delimiter, "none", self.max_frame)


@dataclass(frozen=True, kw_only=True, slots=True)
class MarkerCodec:
    """``start payload end [checksum]``; the generic shape behind STX/ETX and MLLP."""

    start: bytes
    end: bytes
    checksum: Checksum = "none"
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        if not self.start or not self.end:
            raise ValueError("start and end markers must not be empty")

    def encode(self, payload: bytes) -> bytes:
        if self.end in payload:
            raise FrameEncodeError(f"payload contains the end marker {self.end.hex()}")
        if len(payload) > self.max_frame:
            raise FrameEncodeError(f"payload of {len(payload)} bytes exceeds max_frame")
        frame = self.start + payload + self.end
        if self.checksum != "none":
            frame += bytes([checksum_byte(self.checksum, payload + self.end)])
        return frame

    def decoder(self) -> FrameDecoder:
        return _MarkerDecoder(self.start, self.end, self.checksum, self.max_frame)


def stx_etx(checksum: Checksum = "none", max_frame: int = DEFAULT_MAX_FRAME) -> MarkerCodec:
    return MarkerCodec(start=STX, end=ETX, checksum=checksum, max_frame=max_frame)


def mllp(max_frame: int = DEFAULT_MAX_FRAME) -> MarkerCodec:
    return MarkerCodec(start=MLLP_START, end=MLLP_END, max_frame=max_frame)


class _MarkerDecoder(BufferedDecoder):
    """Shared by all marker framings; an empty ``start`` means a plain delimiter."""

    def __init__(self, start: bytes, end: bytes, checksum: Checksum, max_frame: int) -> None:
        super().__init__()
        self._start, self._end, self._checksum, self._max = start, end, checksum, max_frame
        self._trailer = 0 if checksum == "none" else 1
        self._scanned = 0  # payload bytes already searched for the end marker

    def feed(self, data: bytes) -> list[bytes]:
        self._check()
        self._buffer += data
        frames: list[bytes] = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> bytes | None:
        buffer, start, end = self._buffer, self._start, self._end
        if not buffer:
            return None
        head = bytes(buffer[: len(start)])
        if head != start[: len(head)]:
            raise self._fail(f"expected frame start {start.hex()}, got {head.hex()}")
        if len(buffer) < len(start):
            return None
        body_from = len(start)
        index = buffer.find(end, body_from + self._scanned)
        if index < 0:
            waiting = len(buffer) - body_from - (len(end) - 1)
            if waiting > self._max:
                raise self._fail(f"frame exceeds the {self._max}-byte limit before its end marker")
            self._scanned = max(0, waiting)
            return None
        size = index - body_from
        if size > self._max:
            raise self._fail(f"frame of {size} bytes exceeds the {self._max}-byte limit")
        stop = index + len(end)
        if len(buffer) < stop + self._trailer:
            self._scanned = size
            return None
        payload = bytes(buffer[body_from:index])
        if self._trailer:
            expected = checksum_byte(self._checksum, payload + end)
            if buffer[stop] != expected:
                raise self._fail(
                    f"{self._checksum} checksum mismatch: got {buffer[stop]:#04x}, "
                    f"computed {expected:#04x}"
                )
        del buffer[: stop + self._trailer]
        self._scanned = 0
        return payload
