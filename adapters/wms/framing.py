"""Frames on a TCP byte stream: the codec contract, length prefixes and fixed-length records.

TCP delivers bytes, not messages: one frame may arrive over many reads and several frames in one.
Every codec here is sans-IO. :meth:`FrameCodec.decoder` makes an incremental decoder (bytes in,
whole frames out) for one connection, so the pool and the unit tests drive the same code, and the
decoder refuses a frame longer than ``max_frame`` as soon as it can tell, before buffering it.
Marker-delimited codecs (``\\n``, STX/ETX, MLLP) live in :mod:`adapters.wms.markers`.

A decoder that raised :class:`FrameError` stays failed: the stream is out of step and its
connection must be discarded, never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "DEFAULT_MAX_FRAME",
    "BufferedDecoder",
    "FixedLengthCodec",
    "FrameCodec",
    "FrameDecoder",
    "FrameEncodeError",
    "FrameError",
    "LengthPrefixCodec",
]

DEFAULT_MAX_FRAME = 1_048_576


class FrameError(ValueError):
    """The peer's bytes break the framing: bad length, oversize frame, bad checksum, junk."""


class FrameEncodeError(ValueError):
    """A payload this framing cannot carry (too long, or holding the end marker)."""


class FrameDecoder(Protocol):
    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they complete, in order."""
        ...

    @property
    def buffered(self) -> int:
        """Bytes received that belong to no returned frame yet."""
        ...

    def finish(self) -> None:
        """The stream ended: raise :class:`FrameError` if a frame was left incomplete."""
        ...


class FrameCodec(Protocol):
    @property
    def max_frame(self) -> int: ...

    def encode(self, payload: bytes) -> bytes: ...

    def decoder(self) -> FrameDecoder: ...


class BufferedDecoder:
    """Buffer and failure bookkeeping shared by the decoders."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._failed: FrameError | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _fail(self, message: str) -> FrameError:
        self._failed = FrameError(message)
        return self._failed

    def _check(self) -> None:
        if self._failed is not None:
            raise FrameError(f"stream already out of step: {self._failed}")

    def finish(self) -> None:
        self._check()
        if self.buffered:
            raise FrameError(f"stream ended inside a frame ({self.buffered} bytes unread)")


@dataclass(frozen=True, kw_only=True, slots=True)
class LengthPrefixCodec:
    """``<length><reserved bytes><payload>``: Fishbowl's 4-byte big-endian signed prefix and kin.

    ``length_includes_header`` counts the header itself in the length, as an IBM variable-length
    record's RDW does (``length_bytes=2, reserved_bytes=2``); reserved bytes must be zero. A
    length that is negative (signed field) or leaves less than nothing for the payload is an
    error, as is one above ``max_frame``: both are refused on the header, before any body is read.
    """

    length_bytes: Literal[1, 2, 4, 8] = 4
    byte_order: Literal["big", "little"] = "big"
    signed: bool = False
    length_includes_header: bool = False
    reserved_bytes: int = 0
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        if self.length_bytes not in (1, 2, 4, 8):
            raise ValueError(f"length_bytes must be 1, 2, 4 or 8, got {self.length_bytes}")
        if self.reserved_bytes < 0 or self.max_frame < 0:
            raise ValueError("reserved_bytes and max_frame must be non-negative")

    @property
    def header_size(self) -> int:
        return self.length_bytes + self.reserved_bytes

    def encode(self, payload: bytes) -> bytes:
        if len(payload) > self.max_frame:
            raise FrameEncodeError(f"payload of {len(payload)} bytes exceeds max_frame")
        value = len(payload) + (self.header_size if self.length_includes_header else 0)
        try:
            length = value.to_bytes(self.length_bytes, self.byte_order, signed=self.signed)
        except OverflowError:
            raise FrameEncodeError(
                f"payload of {len(payload)} bytes does not fit a {self.length_bytes}-byte length"
            ) from None
        return length + bytes(self.reserved_bytes) + payload

    def decoder(self) -> FrameDecoder:
        return _LengthPrefixDecoder(self)


class _LengthPrefixDecoder(BufferedDecoder):
    def __init__(self, codec: LengthPrefixCodec) -> None:
        super().__init__()
        self._codec = codec
        self._need: int | None = None  # body length once the header is read

    @property
    def buffered(self) -> int:
        return len(self._buffer) + (self._codec.header_size if self._need is not None else 0)

    def feed(self, data: bytes) -> list[bytes]:
        self._check()
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        while True:
            if self._need is None:
                if len(buffer) < self._codec.header_size:
                    return frames
                self._need = self._read_header()
                del buffer[: self._codec.header_size]
            if len(buffer) < self._need:
                return frames
            frames.append(bytes(buffer[: self._need]))
            del buffer[: self._need]
            self._need = None

    def _read_header(self) -> int:
        codec = self._codec
        width = codec.length_bytes
        value = int.from_bytes(self._buffer[:width], codec.byte_order, signed=codec.signed)
        if any(self._buffer[width : codec.header_size]):
            header = self._buffer[: codec.header_size].hex()
            raise self._fail(f"reserved header bytes are not zero (header {header})")
        size = value - codec.header_size if codec.length_includes_header else value
        if size < 0:
            raise self._fail(f"invalid frame length {value}")
        if size > codec.max_frame:
            raise self._fail(f"frame of {size} bytes exceeds the {codec.max_frame}-byte limit")
        return size


@dataclass(frozen=True, kw_only=True, slots=True)
class FixedLengthCodec:
    """Every frame is exactly ``frame_size`` bytes; shorter payloads are padded with ``pad``."""

    frame_size: int
    pad: bytes = b" "
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        if self.frame_size < 1:
            raise ValueError(f"frame_size must be positive, got {self.frame_size}")
        if self.frame_size > self.max_frame:
            raise ValueError(f"frame_size {self.frame_size} exceeds max_frame {self.max_frame}")
        if len(self.pad) != 1:
            raise ValueError("pad must be exactly one byte")

    def encode(self, payload: bytes) -> bytes:
        if len(payload) > self.frame_size:
            raise FrameEncodeError(
                f"payload of {len(payload)} bytes exceeds the {self.frame_size}-byte frame"
            )
        return payload.ljust(self.frame_size, self.pad)

    def decoder(self) -> FrameDecoder:
        return _FixedLengthDecoder(self.frame_size)


class _FixedLengthDecoder(BufferedDecoder):
    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def feed(self, data: bytes) -> list[bytes]:
        self._check()
        buffer = self._buffer
        buffer += data
        frames = []
        while len(buffer) >= self._size:
            frames.append(bytes(buffer[: self._size]))
            del buffer[: self._size]
        return frames
