"""Length-prefix and fixed-length frame codecs: partial, coalesced, oversize and hostile input."""

from __future__ import annotations

import struct

import pytest

from adapters.wms.framing import (
    FixedLengthCodec,
    FrameDecoder,
    FrameEncodeError,
    FrameError,
    LengthPrefixCodec,
)

PAYLOADS = [b'{"a":1}', b"", b"x" * 300, "h\u00e9llo".encode()]


def feed_bytewise(decoder: FrameDecoder, stream: bytes) -> list[bytes]:
    frames: list[bytes] = []
    for index in range(len(stream)):
        frames += decoder.feed(stream[index : index + 1])
    return frames


FISHBOWL = LengthPrefixCodec(length_bytes=4, signed=True)


def test_fishbowl_header_is_four_byte_big_endian_signed_length() -> None:
    """The default Fishbowl framing writes exactly struct '>i' plus the payload."""
    assert FISHBOWL.encode(b"abc") == struct.pack(">i", 3) + b"abc"


@pytest.mark.parametrize("width", [1, 2, 4, 8])
@pytest.mark.parametrize("order", ["big", "little"])
@pytest.mark.parametrize("signed", [False, True])
def test_every_width_order_and_signedness_round_trips_byte_by_byte(
    width: int, order: str, signed: bool
) -> None:
    """Each header variant decodes its own frames even when fed one byte at a time."""
    codec = LengthPrefixCodec(length_bytes=width, byte_order=order, signed=signed)  # type: ignore[arg-type]
    payloads = [p for p in PAYLOADS if len(p) < (1 << (8 * width - 1))]
    stream = b"".join(codec.encode(p) for p in payloads)
    decoder = codec.decoder()
    assert feed_bytewise(decoder, stream) == payloads
    assert decoder.buffered == 0


def test_little_endian_header_bytes_are_little_endian() -> None:
    """A 2-byte little-endian prefix puts the low byte first."""
    assert (
        LengthPrefixCodec(length_bytes=2, byte_order="little").encode(b"x" * 258)[:2] == b"\x02\x01"
    )


def test_coalesced_frames_in_one_chunk_all_come_out_in_order() -> None:
    """Several frames arriving in one read are all returned, in order."""
    stream = b"".join(FISHBOWL.encode(p) for p in PAYLOADS)
    assert FISHBOWL.decoder().feed(stream) == PAYLOADS


def test_a_partial_frame_waits_for_the_rest() -> None:
    """A frame split across reads is returned only when complete, and counted as buffered."""
    frame = FISHBOWL.encode(b"hello world")
    decoder = FISHBOWL.decoder()
    assert decoder.feed(frame[:7]) == []
    assert decoder.buffered == 7
    assert decoder.feed(frame[7:] + frame[:2]) == [b"hello world"]
    assert decoder.buffered == 2


def test_announced_length_above_max_frame_fails_on_the_header() -> None:
    """An oversize announcement is refused before any of its body arrives."""
    codec = LengthPrefixCodec(length_bytes=4, max_frame=100)
    with pytest.raises(FrameError, match="exceeds the 100-byte limit"):
        codec.decoder().feed(struct.pack(">I", 101))


def test_negative_signed_length_is_refused() -> None:
    """A negative length in a signed field is garbage, not a frame."""
    with pytest.raises(FrameError, match="invalid frame length -1"):
        FISHBOWL.decoder().feed(b"\xff\xff\xff\xff")


def test_garbage_header_of_ascii_text_is_refused_as_oversize() -> None:
    """Text where a length should be ('HTTP') announces ~1.2 GB and is refused at once."""
    with pytest.raises(FrameError, match="exceeds"):
        FISHBOWL.decoder().feed(b"HTTP/1.1 400 Bad Request\r\n")


def test_a_failed_decoder_stays_failed() -> None:
    """After a framing error the stream is out of step: later bytes are refused too."""
    decoder = FISHBOWL.decoder()
    with pytest.raises(FrameError):
        decoder.feed(b"\x80\x00\x00\x00")
    with pytest.raises(FrameError, match="out of step"):
        decoder.feed(FISHBOWL.encode(b"ok"))


def test_finish_inside_a_frame_reports_the_truncation() -> None:
    """A stream that ends mid-frame is reported, not silently dropped."""
    decoder = FISHBOWL.decoder()
    decoder.feed(FISHBOWL.encode(b"abcdef")[:6])
    with pytest.raises(FrameError, match="ended inside a frame"):
        decoder.finish()


def test_length_including_the_header_and_reserved_bytes_reads_an_ibm_rdw() -> None:
    """An RDW (2-byte length counting the 4-byte header, 2 zero bytes) frames records."""
    rdw = LengthPrefixCodec(length_bytes=2, length_includes_header=True, reserved_bytes=2)
    assert rdw.encode(b"abc") == b"\x00\x07\x00\x00abc"
    assert rdw.decoder().feed(b"\x00\x07\x00\x00abc\x00\x04\x00\x00") == [b"abc", b""]


def test_length_smaller_than_its_own_header_is_refused() -> None:
    """A header-inclusive length below the header size cannot be a frame."""
    rdw = LengthPrefixCodec(length_bytes=2, length_includes_header=True, reserved_bytes=2)
    with pytest.raises(FrameError, match="invalid frame length 3"):
        rdw.decoder().feed(b"\x00\x03\x00\x00")


def test_nonzero_reserved_bytes_are_refused() -> None:
    """Reserved header bytes must be zero (a spanned or corrupt record is not read)."""
    rdw = LengthPrefixCodec(length_bytes=2, length_includes_header=True, reserved_bytes=2)
    with pytest.raises(FrameError, match="reserved header bytes"):
        rdw.decoder().feed(b"\x00\x07\x01\x00abc")


def test_encoder_refuses_payloads_over_max_frame_or_the_field_width() -> None:
    """A payload the peer could not accept is refused before it is sent."""
    with pytest.raises(FrameEncodeError, match="max_frame"):
        LengthPrefixCodec(max_frame=4).encode(b"12345")
    with pytest.raises(FrameEncodeError, match="does not fit"):
        LengthPrefixCodec(length_bytes=1, signed=True).encode(b"x" * 128)


def test_unsupported_width_is_a_configuration_error() -> None:
    """Only 1, 2, 4 and 8-byte length fields exist."""
    with pytest.raises(ValueError, match="length_bytes"):
        LengthPrefixCodec(length_bytes=3)  # type: ignore[arg-type]


def test_fixed_length_frames_split_a_stream_and_pad_on_encode() -> None:
    """Fixed frames come out every frame_size bytes; short payloads are space-padded."""
    codec = FixedLengthCodec(frame_size=5)
    assert codec.encode(b"ab") == b"ab   "
    decoder = codec.decoder()
    assert feed_bytewise(decoder, b"abcdefghijkl") == [b"abcde", b"fghij"]
    assert decoder.buffered == 2
    with pytest.raises(FrameError, match="ended inside a frame"):
        decoder.finish()


def test_fixed_length_refuses_long_payloads_and_sizes_over_max_frame() -> None:
    """A payload longer than the frame, or a frame above max_frame, is refused."""
    with pytest.raises(FrameEncodeError):
        FixedLengthCodec(frame_size=2).encode(b"abc")
    with pytest.raises(ValueError, match="exceeds max_frame"):
        FixedLengthCodec(frame_size=10, max_frame=5)
