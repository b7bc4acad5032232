"""Fishbowl's frames: a 4-byte big-endian signed length, then that many bytes of UTF-8 payload.

TCP delivers a byte stream, not messages: one frame may arrive over many segments and several
frames may arrive in one. :class:`FrameDecoder` is sans-IO (bytes in, frames out) so the server
and its unit tests drive the same code, and it refuses a frame whose declared length is negative
or above the limit as soon as the header arrives, before buffering a byte of its body.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

__all__ = ["HEADER_SIZE", "FrameDecoder", "FrameError", "encode_frame"]

_HEADER = struct.Struct(">i")
HEADER_SIZE = _HEADER.size


class FrameError(ValueError):
    """The peer declared a frame length the server will not read (negative or too large)."""


def encode_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length, ready for one ``write``."""
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Reassemble whole frames from arbitrary chunks of a byte stream."""

    def __init__(self, max_frame: int) -> None:
        if max_frame < 0:
            raise ValueError(f"max_frame must be non-negative, got {max_frame}")
        self.max_frame = max_frame
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete payload, or None until more bytes arrive.

        Raises :class:`FrameError` when the next header is unacceptable; frames before it have
        already been returned, so a caller answers them before closing.
        """
        buffer = self._buffer
        if len(buffer) < HEADER_SIZE:
            return None
        (length,) = _HEADER.unpack_from(buffer)
        if length < 0:
            raise FrameError(f"negative frame length {length}")
        if length > self.max_frame:
            raise FrameError(f"frame of {length} bytes exceeds the {self.max_frame}-byte limit")
        end = HEADER_SIZE + length
        if len(buffer) < end:
            return None
        payload = bytes(buffer[HEADER_SIZE:end])
        del buffer[:end]
        return payload

    def frames(self, data: bytes) -> Iterator[bytes]:
        """Feed ``data`` and yield every frame it completes, in order."""
        self.feed(data)
        while (payload := self.next_frame()) is not None:
            yield payload
