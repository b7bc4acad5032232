"""The WMS sandbox's frame decoder: lengths, partial and coalesced frames, refusals."""

from __future__ import annotations

import struct

import pytest

from sandbox.wms.framing import FrameDecoder, FrameError, encode_frame


def frame(payload: bytes) -> bytes:
    """An independent encoding of one frame, so the tests do not trust encode_frame."""
    return struct.pack(">i", len(payload)) + payload


def test_encode_frame_prefixes_a_big_endian_signed_length():
    """encode_frame writes the payload length as 4 big-endian bytes before the payload."""
    assert encode_frame(b"hello") == b"\x00\x00\x00\x05hello"
    assert encode_frame(b"x" * 258)[:4] == b"\x00\x00\x01\x02"


def test_a_frame_fed_one_byte_at_a_time_comes_out_whole_once():
    """A frame split across many reads is returned only when its last byte arrives."""
    decoder = FrameDecoder(max_frame=1024)
    data = frame(b'{"FbiJson":{}}')
    seen = []
    for index in range(len(data)):
        seen.extend(decoder.frames(data[index : index + 1]))
        if index < len(data) - 1:
            assert seen == []
    assert seen == [b'{"FbiJson":{}}']
    assert decoder.buffered == 0


def test_coalesced_frames_come_out_in_order_and_keep_the_remainder():
    """Several frames in one read are all returned, in order, and a trailing partial waits."""
    decoder = FrameDecoder(max_frame=1024)
    tail = frame(b"third")
    out = list(decoder.frames(frame(b"first") + frame(b"") + frame(b"second") + tail[:6]))
    assert out == [b"first", b"", b"second"]
    assert decoder.buffered == 6
    assert list(decoder.frames(tail[6:])) == [b"third"]


def test_a_frame_of_exactly_max_frame_bytes_is_accepted():
    """The limit is inclusive: a payload of max_frame bytes is a valid frame."""
    decoder = FrameDecoder(max_frame=8)
    assert list(decoder.frames(frame(b"12345678"))) == [b"12345678"]


def test_an_oversize_length_is_refused_as_soon_as_the_header_arrives():
    """A declared length above max_frame raises before any of its body is buffered."""
    decoder = FrameDecoder(max_frame=8)
    with pytest.raises(FrameError, match="exceeds"):
        list(decoder.frames(struct.pack(">i", 9)))


def test_a_negative_length_is_refused():
    """A length with the sign bit set is an out-of-step stream, not a huge frame."""
    decoder = FrameDecoder(max_frame=1024)
    with pytest.raises(FrameError, match="negative"):
        list(decoder.frames(b"\xff\xff\xff\xfe" + b"abc"))


def test_frames_before_a_bad_header_are_still_returned():
    """A good frame ahead of an oversize header in the same read is yielded before the error."""
    decoder = FrameDecoder(max_frame=16)
    frames = decoder.frames(frame(b"ok") + struct.pack(">i", 1 << 20))
    assert next(frames) == b"ok"
    with pytest.raises(FrameError):
        next(frames)
