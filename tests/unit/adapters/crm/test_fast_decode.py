"""The lxml fast path of the XML-RPC decoder against the standard library's unmarshaller.

Generated replies are marshalled by ``xmlrpc.client.dumps`` (what a Python server sends) and
by hand in the forms other servers use; every one is decoded both ways and must give the same
value, or the same error.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.crm import codec
from adapters.crm.codec import MalformedReply, decode_reply, decode_reply_reference

CAP = 16 * 1024 * 1024

# XML 1.0 characters, as a server would send them (the marshaller escapes &, < and >)
_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\x00",
        min_codepoint=0x09,
    ).filter(lambda c: c in "\t\n" or ord(c) >= 0x20),
    max_size=20,
)
_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**31), max_value=2**31 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
    | st.datetimes().map(lambda d: xmlrpc.client.DateTime(d.replace(microsecond=0)))
    | st.binary(max_size=24).map(xmlrpc.client.Binary)
)
_VALUES = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def both(body: bytes, max_depth: int = 64) -> tuple[Any, Any]:
    """(fast-path answer, reference answer); an exception is compared by type."""

    def outcome(decode: Any) -> Any:
        try:
            return decode()
        except (MalformedReply, xmlrpc.client.Fault) as exc:
            return type(exc)

    fast = outcome(lambda: decode_reply(body, max_depth=max_depth, max_bytes=CAP))
    reference = outcome(lambda: decode_reply_reference(body, max_depth=max_depth))
    return fast, reference


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_marshalled_replies_decode_alike(value: Any) -> None:
    """Any value the standard marshaller writes reads the same through both parsers."""
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()
    fast, reference = both(body)
    assert fast == reference


def test_the_fast_path_reads_plain_replies_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain reply never reaches the reference parser (so the fast path is really used)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the reference parser was used")

    monkeypatch.setattr(codec, "decode_reply_reference", refuse)
    body = xmlrpc.client.dumps(
        ({"id": 7, "tags": ["a", "b"], "active": True, "note": None},),
        methodresponse=True,
        allow_none=True,
    ).encode()
    assert decode_reply(body, max_depth=64, max_bytes=CAP) == {
        "id": 7,
        "tags": ["a", "b"],
        "active": True,
        "note": None,
    }


@pytest.mark.parametrize(
    "inner",
    [
        "<value>  bare text  </value>",
        "<value><string></string></value>",
        "<value> <int> 42 </int> </value>",
        "<value><i8>9007199254740993</i8></value>",
        "<value><bigdecimal>1.10</bigdecimal></value>",
        "<value><dateTime.iso8601>20260201T09:30:00</dateTime.iso8601></value>",
        "<value><base64>aGVs\nbG8=</base64></value>",
        "<value><struct><member><name>a</name><value>1</value></member>"
        "<member><name>a</name><value><int>2</int></value></member></struct></value>",
        "<value><array><data></data></array></value>",
        "<value><struct></struct></value>",
        # what the fast path leaves to the reference: each must still agree
        "<value><ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/></value>",
        "<value><string><![CDATA[<raw>]]></string></value>",
        "<value><!-- note --><int>1</int></value>",
        "<value><int>one</int></value>",
        "<value><boolean>yes</boolean></value>",
        "<value><int></int></value>",
        "<value><unknown>1</unknown></value>",
        "<value><string>a<b/>c</string></value>",
    ],
)
def test_hand_written_forms_decode_alike(inner: str) -> None:
    """Forms other servers send, odd or broken ones included, read the same both ways."""
    body = (
        "<?xml version='1.0'?><methodResponse><params><param>"
        f"{inner}</param></params></methodResponse>"
    ).encode()
    fast, reference = both(body)
    assert fast == reference


@pytest.mark.parametrize("depth", range(4, 12))
def test_the_depth_limit_is_the_same(depth: int) -> None:
    """Around the nesting limit both refuse, or both read, the same replies."""
    nested: Any = 1
    for _ in range(3):
        nested = {"k": [nested]}
    body = xmlrpc.client.dumps((nested,), methodresponse=True).encode()
    for max_depth in range(depth, depth + 8):
        fast, reference = both(body, max_depth=max_depth)
        assert fast == reference, max_depth
