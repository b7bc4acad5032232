"""The XML-RPC encoder's own walk against the standard library's marshaller.

Generated params, of every type a route or a mapping can produce, are encoded both ways, with
and without ``allow_none`` and ``none_as_false``: the bytes must be the same, or both must
refuse (None without ``allow_none``). Values XML-RPC cannot carry are refused by both.
"""

from __future__ import annotations

import datetime
import xmlrpc.client
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.crm.codec import CannotMarshal, encode_call, encode_call_reference

_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**31), max_value=2**31 - 1)
    | st.floats()
    | st.decimals(allow_nan=False, places=3)
    | st.text(max_size=12)
    | st.text(st.sampled_from("a &<>é\t"), min_size=1, max_size=8)  # markup, often
    | st.binary(max_size=12)
    | st.datetimes().map(lambda d: d.replace(microsecond=0))
    | st.builds(xmlrpc.client.Binary, st.binary(max_size=8))
)


def _mappings(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Mapping[str, Any]]:
    keys = st.text(st.characters() | st.sampled_from("&<>"), max_size=8) | st.integers(
        0, 3
    )  # a non-string key must be refused
    plain = st.dictionaries(keys, values, max_size=4)
    return plain | plain.map(MappingProxyType)  # a mapping that is not a dict: a struct too


_VALUES = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple) | _mappings(inner)
    ),
    max_leaves=16,
)


def encoded(encode: Any, params: list[Any], allow_none: bool, none_as_false: bool) -> Any:
    """The bytes, or CannotMarshal (the one error either may raise)."""
    try:
        return encode("execute_kw", params, allow_none=allow_none, none_as_false=none_as_false)
    except CannotMarshal:
        return CannotMarshal


@settings(max_examples=400, deadline=None)
@given(st.lists(_VALUES, max_size=5), st.booleans(), st.booleans())
def test_generated_params_encode_to_the_same_bytes(
    params: list[Any], allow_none: bool, none_as_false: bool
) -> None:
    """Whatever the params, both encoders write the same document or both refuse them."""
    fast = encoded(encode_call, params, allow_none, none_as_false)
    reference = encoded(encode_call_reference, params, allow_none, none_as_false)
    assert fast == reference


@pytest.mark.parametrize(
    "params",
    [
        [2**31],
        [-(2**31) - 1],
        [{1: "a"}],
        [[None]],
        [object()],
        [{"\ud800": None}],
        [[[[]]] * 2, "x" * 3],
    ],
    ids=["int too big", "int too small", "int key", "None", "object", "surrogate", "nested fine"],
)
def test_values_xmlrpc_cannot_carry_are_refused_alike(params: list[Any]) -> None:
    """Out-of-range ints, non-string keys, None without allow_none, foreign objects and text
    that is not valid Unicode (a lone surrogate, which JSON can carry) are refused by both
    encoders, and a legal nesting is encoded by both the same."""
    fast = encoded(encode_call, params, allow_none=False, none_as_false=False)
    reference = encoded(encode_call_reference, params, allow_none=False, none_as_false=False)
    assert fast == reference


def test_an_odoo_read_encodes_alike_and_escapes_markup() -> None:
    """The call every customer read makes: the same bytes, with &, < and > escaped."""
    params = [
        "odoo",
        2,
        "s3cret&<key>",
        "res.partner",
        "read",
        [[7]],
        {"fields": ["name", "email"], "context": {"lang": "en_US"}},
    ]
    fast = encode_call("execute_kw", params, allow_none=False, none_as_false=True)
    assert fast == encode_call_reference("execute_kw", params, allow_none=False, none_as_false=True)
    assert b"<string>s3cret&amp;&lt;key&gt;</string>" in fast


def test_values_only_the_marshaller_knows_are_left_to_it() -> None:
    """Dates, bytes and a Decimal go out as the standard marshaller writes them."""
    params = [datetime.datetime(2026, 1, 2, 3, 4, 5), b"\x00\x01", Decimal("2.50")]
    fast = encode_call("m", params, allow_none=False)
    assert fast == encode_call_reference("m", params, allow_none=False)
    assert b"<dateTime.iso8601>20260102T03:04:05</dateTime.iso8601>" in fast
    assert b"<double>2.5</double>" in fast
