"""FramedTcpAdapter over recorded replies: what each codec sends and returns, and its options."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.errors import BackendFault, InvalidRequest, ProtocolError
from adapters.wms import FramedTcpAdapter, FramedTcpOptions
from adapters.wms.framing import FixedLengthCodec, LengthPrefixCodec
from adapters.wms.markers import DelimiterCodec, MarkerCodec
from adapters.wms.options import frame_codec
from adapters.wms.transport import RecordedTransport

CONTEXT = AdapterContext(
    backend="legacy", endpoint="tcp://127.0.0.1:9100", connect_timeout=1.0, read_timeout=1.0
)


def adapter_answering(reply: bytes, **options: Any) -> tuple[FramedTcpAdapter, RecordedTransport]:
    async def answer(payload: bytes) -> bytes:
        return reply

    wire = RecordedTransport(answer)
    return FramedTcpAdapter(CONTEXT, FramedTcpOptions(**options), transport=wire), wire


async def test_json_sends_the_operation_field_with_the_params() -> None:
    """With operation_field 'op' the request is {'op': name, **params}; the reply is parsed."""
    adapter, wire = adapter_answering(b'{"qty": 4}')
    assert await adapter.call("stock", {"sku": "A-1"}) == {"qty": 4}
    assert json.loads(wire.requests[0]) == {"op": "stock", "sku": "A-1"}


async def test_json_without_operation_field_sends_params_as_they_are() -> None:
    """operation_field null sends exactly the params."""
    adapter, wire = adapter_answering(b"[1, 2]", operation_field=None)
    assert await adapter.call("anything", {"sku": "A-1"}) == [1, 2]
    assert json.loads(wire.requests[0]) == {"sku": "A-1"}


async def test_xml_root_is_the_operation_and_the_reply_keeps_its_root() -> None:
    """XML requests are <operation>params</operation>; replies come back as {root: tree}."""
    adapter, wire = adapter_answering(b"<StockRs><Qty>4</Qty></StockRs>", codec="xml")
    assert await adapter.call("StockRq", {"Sku": "A-1"}) == {"StockRs": {"Qty": "4"}}
    assert wire.requests[0].endswith(b"<StockRq><Sku>A-1</Sku></StockRq>")


async def test_xml_reply_with_entities_is_a_protocol_error() -> None:
    """The framed kind uses the same hardened parser: an internal subset is refused."""
    adapter, _ = adapter_answering(b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', codec="xml")
    with pytest.raises(ProtocolError, match="internal subset"):
        await adapter.call("op", {})


async def test_text_codec_sends_params_text_and_returns_text() -> None:
    """The text codec carries params['text'] in the configured charset and returns {'text'}."""
    adapter, wire = adapter_answering(b"ACK \xfc", codec="text", text_encoding="latin-1")
    assert await adapter.call("send", {"text": "MSH|\u00fc"}) == {"text": "ACK \u00fc"}
    assert wire.requests == [b"MSH|\xfc"]


async def test_text_codec_without_text_param_is_invalid() -> None:
    """A text call needs params['text'] as a string."""
    adapter, wire = adapter_answering(b"", codec="text")
    with pytest.raises(InvalidRequest, match="params\\['text'\\]"):
        await adapter.call("send", {"body": "x"})
    assert wire.requests == []


@pytest.mark.parametrize(
    ("reply", "codec", "fails"),
    [
        (b'{"error": "E42", "qty": 0}', "json", True),
        (b'{"error": "", "qty": 3}', "json", False),
        (b'{"error": null, "qty": 3}', "json", False),
        (b"<Rs><error>E42</error></Rs>", "xml", True),
        (b"<Rs><qty>3</qty></Rs>", "xml", False),
    ],
)
async def test_error_field_turns_a_non_empty_value_into_a_backend_fault(
    reply: bytes, codec: str, fails: bool
) -> None:
    """A reply whose error_field is set is a BackendFault carrying that value as its code."""
    adapter, _ = adapter_answering(reply, codec=codec, error_field="error")
    if fails:
        with pytest.raises(BackendFault) as caught:
            await adapter.call("op", {})
        assert caught.value.code == "E42"
    else:
        await adapter.call("op", {})


async def test_declared_operations_limit_the_calls_and_carry_read_only() -> None:
    """With operations listed, others are refused and read_only flags are reported."""
    adapter, wire = adapter_answering(
        b"{}", operations=("stock", "ship"), read_only_operations=("stock",)
    )
    ops = adapter.operations()
    assert ops is not None
    assert (ops["stock"].read_only, ops["ship"].read_only) == (True, False)
    with pytest.raises(InvalidRequest, match="unknown operation"):
        await adapter.call("delete", {})
    assert wire.requests == []


def test_without_declared_operations_any_name_passes() -> None:
    """An empty operations list means the backend is open-ended (operations() is None)."""
    adapter, _ = adapter_answering(b"{}")
    assert adapter.operations() is None


async def test_an_unframeable_request_is_invalid_not_sent() -> None:
    """Params that cannot be encoded are an InvalidRequest."""
    adapter, wire = adapter_answering(b"{}")
    with pytest.raises(InvalidRequest, match="cannot send"):
        await adapter.call("op", {"x": object()})
    assert wire.requests == []


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({}, LengthPrefixCodec),
        ({"framing": "delimiter", "delimiter": "\r\n"}, DelimiterCodec),
        ({"framing": "stx-etx", "checksum": "lrc"}, MarkerCodec),
        ({"framing": "mllp"}, MarkerCodec),
        ({"framing": "fixed", "frame_size": 80}, FixedLengthCodec),
    ],
)
def test_each_framing_option_builds_its_codec(options: dict[str, Any], kind: type) -> None:
    """The framing option selects the codec class and passes max_frame on."""
    codec = frame_codec(FramedTcpOptions(max_frame=4096, **options))
    assert isinstance(codec, kind)
    assert codec.max_frame == 4096


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"framing": "fixed"}, "needs frame_size"),
        ({"frame_size": 10}, "only to framing: fixed"),
        ({"checksum": "lrc"}, "only to framing: stx-etx"),
        ({"framing": "delimiter", "delimiter": ""}, "must not be empty"),
        ({"codec": "text", "error_field": "err"}, "needs codec json or xml"),
        ({"text_encoding": "klingon"}, "unknown encoding"),
        ({"operations": ("a",), "read_only_operations": ("b",)}, "unknown operations"),
        ({"length_bytes": 3}, "length_bytes"),
        ({"framing": "fixed", "frame_size": 100, "max_frame": 10}, "exceeds max_frame"),
    ],
)
def test_impossible_option_combinations_fail_at_load(options: dict[str, Any], message: str) -> None:
    """Bad combinations raise ValueError in the options, where the config binder reports them."""
    with pytest.raises(ValueError, match=message):
        FramedTcpOptions(**options)
