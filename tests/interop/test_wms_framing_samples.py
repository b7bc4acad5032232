"""The WMS framing codecs on real-world byte streams from $VENEER_TEST_SAMPLES/tcp/.

- HL7 v2 over MLLP (python-hl7's samples, MLLP-wrapped): every file decodes to exactly its
  message, byte for byte, whole or one byte at a time; streams damaged at the framing level fail
  with errors that say what is wrong; the framed-tcp adapter carries them over a real socket to
  an MLLP echo server. The "bad" batches are broken at the HL7 level (headers without trailers),
  which framing must not judge: they arrive intact for the receiver to reject.
- COBOL files (CobolToJson's test data): the variable-blocked file's IBM record descriptor words
  through the length-prefix codec, the DTAR020 27-byte records through the fixed-length codec,
  both checked against the JSON renderings that come with them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.wms import FramedTcpAdapter, FramedTcpOptions
from adapters.wms.framing import FixedLengthCodec, FrameDecoder, FrameError, LengthPrefixCodec
from adapters.wms.markers import mllp

pytestmark = pytest.mark.interop

EBCDIC = "cp037"


@pytest.fixture(scope="module")
def hl7_dir(samples_dir: Path) -> Path:
    path = samples_dir / "tcp" / "hl7-mllp"
    if not path.is_dir():
        pytest.fail(f"{path} is missing from the shared samples")
    return path


@pytest.fixture(scope="module")
def mllp_files(hl7_dir: Path) -> list[Path]:
    files = sorted(hl7_dir.glob("*.mllp.bin"))
    assert len(files) >= 20, "expected python-hl7's MLLP samples"
    return files


def plain_of(mllp_file: Path) -> bytes:
    return mllp_file.with_name(mllp_file.name.replace(".mllp.bin", ".hl7")).read_bytes()


def feed_bytewise(decoder: FrameDecoder, stream: bytes) -> list[bytes]:
    frames: list[bytes] = []
    for index in range(len(stream)):
        frames += decoder.feed(stream[index : index + 1])
    return frames


def test_every_mllp_sample_decodes_to_its_message(mllp_files: list[Path]) -> None:
    """Each MLLP file is one frame whose payload is byte-identical to the plain .hl7 file."""
    for path in mllp_files:
        stream = path.read_bytes()
        decoder = mllp().decoder()
        assert decoder.feed(stream) == [plain_of(path)], path.name
        assert feed_bytewise(mllp().decoder(), stream) == [plain_of(path)], path.name
        decoder.finish()


def test_the_bad_batches_are_framed_correctly_and_arrive_intact(mllp_files: list[Path]) -> None:
    """HL7-level breakage (a BHS/FHS without its trailer's partner) passes framing untouched."""
    bad = [p for p in mllp_files if "_bad_" in p.name]
    assert len(bad) >= 5
    for path in bad:
        (payload,) = mllp().decoder().feed(path.read_bytes())
        assert payload == plain_of(path)
        assert payload.split(b"\r")[0][:3] in {b"BHS", b"FHS"}


def test_all_samples_coalesced_in_one_stream_come_out_in_order(mllp_files: list[Path]) -> None:
    """The whole set back to back, as on one long-lived connection, decodes in order."""
    stream = b"".join(p.read_bytes() for p in mllp_files)
    assert mllp().decoder().feed(stream) == [plain_of(p) for p in mllp_files]


def test_a_truncated_stream_reports_the_unfinished_frame(mllp_files: list[Path]) -> None:
    """A connection that ends mid-message says so, with how much was left unread."""
    stream = b"".join(p.read_bytes() for p in mllp_files[:2])
    cut = stream[: len(stream) - 5]
    decoder = mllp().decoder()
    assert decoder.feed(cut) == [plain_of(mllp_files[0])]
    with pytest.raises(FrameError, match=r"ended inside a frame \(\d+ bytes unread\)"):
        decoder.finish()


def test_plain_hl7_on_an_mllp_connection_is_refused_at_its_first_byte(hl7_dir: Path) -> None:
    """Unframed HL7 (a sender without MLLP) is reported as a missing start byte."""
    with pytest.raises(FrameError, match="expected frame start 0b, got 4d"):
        mllp().decoder().feed((hl7_dir / "sample_hl7.hl7").read_bytes())


def test_an_mllp_message_over_max_frame_is_refused(hl7_dir: Path) -> None:
    """The largest sample is refused under a smaller limit, before its end marker is seen."""
    stream = (hl7_dir / "sample_msh.mllp.bin").read_bytes()
    with pytest.raises(FrameError, match="512-byte limit"):
        mllp(max_frame=512).decoder().feed(stream)


def test_mllp_read_as_length_prefixed_is_refused_as_oversize(hl7_dir: Path) -> None:
    """The wrong framing fails loudly: 0x0B 'MSH' read as a length announces ~189 MB."""
    stream = (hl7_dir / "sample_hl7.mllp.bin").read_bytes()
    with pytest.raises(FrameError, match="exceeds the 1048576-byte limit"):
        LengthPrefixCodec(length_bytes=4, signed=True).decoder().feed(stream)


@pytest.fixture
async def mllp_echo() -> AsyncIterator[int]:
    """An MLLP echo server written against the spec, not the adapter's codec."""
    tasks: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        try:
            while True:
                block = await reader.readuntil(b"\x1c\r")
                assert block[:1] == b"\x0b"
                writer.write(block)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


async def test_framed_tcp_adapter_carries_every_sample_over_mllp(
    mllp_echo: int, mllp_files: list[Path]
) -> None:
    """The framed-tcp kind (mllp + text) sends each HL7 sample and gets it back unchanged."""
    context = AdapterContext(
        backend="hl7",
        endpoint=f"tcp://127.0.0.1:{mllp_echo}",
        connect_timeout=1.0,
        read_timeout=2.0,
    )
    options = FramedTcpOptions(framing="mllp", codec="text", text_encoding="latin-1", pool_size=2)
    adapter = FramedTcpAdapter(context, options)
    await adapter.start()
    try:
        messages = [plain_of(p).decode("latin-1") for p in mllp_files]
        replies = await asyncio.gather(*(adapter.call("send", {"text": m}) for m in messages))
        assert [r["text"] for r in replies] == messages
    finally:
        await adapter.close()


def test_variable_blocked_cobol_file_reads_through_the_length_prefix_codec(
    samples_dir: Path,
) -> None:
    """Each IBM RDW (2-byte length incl. header + 2 zero bytes) frames one customer record."""
    folder = samples_dir / "tcp" / "cobol-copybooks"
    stream = (folder / "ZOS.FCUSTDAT_150.vb.bin").read_bytes()
    customers = json.loads((folder / "ZOS.FCUSTDAT_150.json").read_text())["CUSTOMER_DATA"]
    rdw = LengthPrefixCodec(length_bytes=2, length_includes_header=True, reserved_bytes=2)
    decoder = rdw.decoder()
    records = decoder.feed(stream)
    decoder.finish()
    assert len(records) == len(customers) == 150
    for record, customer in zip(records, customers, strict=True):
        transactions = int.from_bytes(record[54:58], "big")  # TRANSACTION-NBR PIC 9(9) COMP
        assert int(record[:6].decode(EBCDIC)) == customer["CUSTOMER_ID"]
        name = record[6:26].decode(EBCDIC).rstrip()
        assert name == customer["PERSONAL_DATA"]["CUSTOMER_NAME"]
        assert transactions == customer["TRANSACTIONS"]["TRANSACTION_NBR"]
        assert len(record) == 58 + 25 * transactions  # OCCURS 0 TO 5 DEPENDING ON
    truncated = rdw.decoder()
    truncated.feed(stream[:-10])
    with pytest.raises(FrameError, match="ended inside a frame"):
        truncated.finish()


def test_fixed_length_cobol_records_read_through_the_fixed_codec(samples_dir: Path) -> None:
    """DTAR020.bin is 379 records of exactly 27 bytes, keyed as its JSON rendering says."""
    folder = samples_dir / "tcp" / "cobol-copybooks"
    stream = (folder / "DTAR020.bin").read_bytes()
    rows = json.loads((folder / "DTAR020_DataN.json").read_text())["DTAR020"]
    decoder = FixedLengthCodec(frame_size=27).decoder()
    records = decoder.feed(stream)
    decoder.finish()
    assert len(records) == len(rows) == 379
    keys = [r[:8].decode(EBCDIC) for r in records]
    assert keys == [row["DTAR020_KCODE_STORE_KEY"]["DTAR020_KEYCODE_NO"] for row in rows]
