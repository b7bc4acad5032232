"""Marker framings: delimiter, STX/ETX with LRC or sum-8 checksums, and MLLP."""

from __future__ import annotations

import functools
import operator

import pytest

from adapters.wms.framing import FrameDecoder, FrameEncodeError, FrameError
from adapters.wms.markers import DelimiterCodec, MarkerCodec, checksum_byte, mllp, stx_etx


def feed_bytewise(decoder: FrameDecoder, stream: bytes) -> list[bytes]:
    frames: list[bytes] = []
    for index in range(len(stream)):
        frames += decoder.feed(stream[index : index + 1])
    return frames


CRLF = DelimiterCodec(delimiter=b"\r\n")


def test_crlf_lines_split_across_reads_and_coalesced() -> None:
    """A CR LF delimiter split between two reads still ends its line; empty lines are frames."""
    decoder = CRLF.decoder()
    assert decoder.feed(b"one\r") == []
    assert decoder.feed(b"\ntwo\r\n\r\nthree") == [b"one", b"two", b""]
    assert decoder.buffered == 5


def test_delimiter_frames_byte_by_byte() -> None:
    """Lines fed one byte at a time come out whole."""
    stream = b"".join(CRLF.encode(p) for p in (b"alpha", b"beta", b"gamma"))
    assert feed_bytewise(CRLF.decoder(), stream) == [b"alpha", b"beta", b"gamma"]


def test_a_line_growing_past_max_frame_fails_before_its_delimiter() -> None:
    """A reply that never ends is cut off once it exceeds max_frame, not buffered forever."""
    decoder = DelimiterCodec(delimiter=b"\r\n", max_frame=8).decoder()
    assert decoder.feed(b"12345678\r") == []  # 8 bytes plus half a delimiter: still acceptable
    with pytest.raises(FrameError, match="exceeds the 8-byte limit"):
        decoder.feed(b"9")


def test_a_complete_line_over_max_frame_is_refused() -> None:
    """A long line arriving in one read, delimiter included, is refused too."""
    with pytest.raises(FrameError, match="exceeds"):
        DelimiterCodec(max_frame=3).decoder().feed(b"abcd\n")


def test_exactly_max_frame_is_accepted() -> None:
    """The limit is inclusive."""
    assert DelimiterCodec(max_frame=3).decoder().feed(b"abc\n") == [b"abc"]


def test_delimiter_inside_a_payload_cannot_be_sent() -> None:
    """Without escaping, a payload holding the delimiter would split in two: refused."""
    with pytest.raises(FrameEncodeError, match="delimiter"):
        CRLF.encode(b"a\r\nb")


def test_lrc_and_sum8_checksums_cover_payload_and_etx() -> None:
    """LRC is the XOR and sum8 the byte sum mod 256 of payload + ETX."""
    data = b"1H|\\^&\x03"
    assert checksum_byte("lrc", data) == functools.reduce(operator.xor, data)
    assert checksum_byte("sum8", data) == sum(data) % 256


@pytest.mark.parametrize("checksum", ["none", "lrc", "sum8"])
def test_stx_etx_round_trips_byte_by_byte(checksum: str) -> None:
    """STX/ETX frames with each checksum decode their own encoding fed byte by byte."""
    codec = stx_etx(checksum)  # type: ignore[arg-type]
    payloads = [b"ENQ", b"", b"\x02 inner STX is data", bytes(range(4, 200))]
    stream = b"".join(codec.encode(p) for p in payloads)
    decoder = codec.decoder()
    assert feed_bytewise(decoder, stream) == payloads
    assert decoder.feed(stream) == payloads  # and all at once
    assert decoder.buffered == 0


def test_stx_etx_checksum_mismatch_is_refused() -> None:
    """A frame whose checksum byte does not match its content is corrupt."""
    frame = bytearray(stx_etx("lrc").encode(b"QTY 12"))
    frame[-1] ^= 0xFF
    with pytest.raises(FrameError, match="lrc checksum mismatch"):
        stx_etx("lrc").decoder().feed(bytes(frame))


def test_sum8_mismatch_after_a_changed_payload_byte() -> None:
    """Flipping a payload byte breaks the sum-8 check."""
    frame = bytearray(stx_etx("sum8").encode(b"QTY 12"))
    frame[3] += 1
    with pytest.raises(FrameError, match="sum8 checksum mismatch"):
        stx_etx("sum8").decoder().feed(bytes(frame))


def test_bytes_before_the_start_marker_are_refused() -> None:
    """Junk where a frame should start means the stream is out of step."""
    with pytest.raises(FrameError, match="expected frame start 02"):
        stx_etx().decoder().feed(b"Z\x02abc\x03")


def test_stx_frame_growing_past_max_frame_fails() -> None:
    """A frame whose ETX never comes is bounded by max_frame."""
    decoder = stx_etx(max_frame=4).decoder()
    with pytest.raises(FrameError, match="limit before its end marker"):
        decoder.feed(b"\x02" + b"x" * 5)


def test_mllp_preset_uses_vt_and_fs_cr() -> None:
    """MLLP frames are 0x0B payload 0x1C 0x0D, with no checksum."""
    assert mllp().encode(b"MSH|") == b"\x0bMSH|\x1c\x0d"
    assert mllp().decoder().feed(b"\x0bA\x1c\x0d\x0bB\x1c") == [b"A"]


def test_mllp_fs_without_cr_is_not_an_end() -> None:
    """A lone 0x1C inside the payload does not end the frame; only 0x1C 0x0D does."""
    decoder = mllp().decoder()
    assert decoder.feed(b"\x0bA\x1cB") == []
    assert decoder.feed(b"\x1c\x0d") == [b"A\x1cB"]


def test_mllp_refuses_payload_with_its_end_marker() -> None:
    """A payload holding FS CR cannot be framed in MLLP."""
    with pytest.raises(FrameEncodeError, match="end marker"):
        mllp().encode(b"A\x1c\x0dB")


def test_markers_must_not_be_empty() -> None:
    """An empty start or end marker is a configuration error."""
    with pytest.raises(ValueError, match="must not be empty"):
        MarkerCodec(start=b"", end=b"\x03")
    with pytest.raises(ValueError, match="must not be empty"):
        DelimiterCodec(delimiter=b"")
