"""Payload codecs: JSON, text, and XML parsed so that no DTD trick gets through."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapters.wms.payload import (
    JsonCodec,
    PayloadEncodeError,
    PayloadError,
    TextCodec,
    XmlCodec,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE FbiXml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<FbiXml><Ticket><Key>&xxe;</Key></Ticket></FbiXml>"""
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE FbiXml SYSTEM "http://127.0.0.1:1/fbi.dtd"><FbiXml/>'
)
PUBLIC_DTD = b'<!DOCTYPE FbiXml PUBLIC "-//X//DTD Y//EN" "http://127.0.0.1:1/y.dtd"><FbiXml/>'
ATTLIST_ONLY = b'<!DOCTYPE r [<!ATTLIST r injected CDATA "yes">]><r/>'
PARAMETER_ENTITY = b'<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/x"> %remote;]><r/>'
BARE = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE FbiXml>\n<FbiXml><Ticket><Key>k</Key></Ticket></FbiXml>'

STRICT = XmlCodec(allow_doctype=False)
FISHBOWL = XmlCodec(allow_doctype=True)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (BILLION_LAUGHS, "internal subset"),
        (EXTERNAL_ENTITY, "internal subset"),
        (EXTERNAL_DTD, "external DTD"),
        (PUBLIC_DTD, "external DTD"),
        (ATTLIST_ONLY, "internal subset"),
        (PARAMETER_ENTITY, "internal subset"),
    ],
)
@pytest.mark.parametrize("codec", [STRICT, FISHBOWL], ids=["strict", "allow_doctype"])
def test_declarations_are_refused_even_where_a_bare_doctype_is_allowed(
    codec: XmlCodec, payload: bytes, reason: str
) -> None:
    """Entities, attribute defaults and external DTDs are never accepted, whatever the option."""
    with pytest.raises(PayloadError, match=reason):
        codec.decode(payload)


def test_bare_doctype_is_accepted_when_the_backend_allows_it() -> None:
    """Fishbowl's bare <!DOCTYPE FbiXml> parses under allow_doctype."""
    assert FISHBOWL.decode(BARE) == {"FbiXml": {"Ticket": {"Key": "k"}}}


def test_bare_doctype_is_refused_by_default() -> None:
    """A backend that did not opt in gets no DOCTYPE at all."""
    with pytest.raises(PayloadError, match="not accepted from this backend"):
        STRICT.decode(BARE)


def test_a_doctype_hidden_after_a_comment_is_still_refused() -> None:
    """Markup-like text in a prolog comment cannot steer the scan past a real internal subset."""
    sneaky = b'<!-- <a --><!DOCTYPE r [<!ATTLIST r a CDATA "x">]><r/>'
    with pytest.raises(PayloadError, match="could not be inspected"):
        FISHBOWL.decode(sneaky)


def test_a_utf16_doctype_that_cannot_be_scanned_is_refused() -> None:
    """A DOCTYPE in an encoding the byte scan cannot read is refused, not trusted."""
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ATTLIST r a CDATA "x">]><r/>'
    with pytest.raises(PayloadError, match="could not be inspected"):
        FISHBOWL.decode(utf16.encode("utf-16"))


def test_malformed_xml_is_a_payload_error() -> None:
    """Truncated XML (the sandbox's garbage) is refused with a payload error."""
    with pytest.raises(PayloadError, match="not well-formed"):
        FISHBOWL.decode(b'<?xml version="1.0"?><FbiXml><Ticket><Key>\xff\xfe\x00<FbiMsgsRs')


def test_xml_tree_maps_attributes_repeats_and_leaves() -> None:
    """Attributes become keys, repeated children lists, leaves their text."""
    reply = (
        b'<FbiXml><FbiMsgsRs statusCode="1000"><InvQtyRs statusCode="1000">'
        b"<InvQty><Qty>1</Qty></InvQty><InvQty><Qty>2</Qty></InvQty><Empty/>"
        b"</InvQtyRs></FbiMsgsRs></FbiXml>"
    )
    assert STRICT.decode(reply) == {
        "FbiXml": {
            "FbiMsgsRs": {
                "statusCode": "1000",
                "InvQtyRs": {
                    "statusCode": "1000",
                    "InvQty": [{"Qty": "1"}, {"Qty": "2"}],
                    "Empty": "",
                },
            }
        }
    }


def test_xml_encode_writes_lists_none_booleans_and_an_optional_doctype() -> None:
    """Requests render as the tree says, with a bare DOCTYPE only when asked."""
    document = {"Rq": {"Part": ["a", "b"], "Flag": True, "Note": None, "Qty": 3}}
    body = b"<Rq><Part>a</Part><Part>b</Part><Flag>true</Flag><Note/><Qty>3</Qty></Rq>"
    assert STRICT.encode(document).endswith(body)
    assert b"<!DOCTYPE" not in STRICT.encode(document)
    assert b"<!DOCTYPE Rq>" in XmlCodec(doctype=True).encode(document)


def test_xml_encode_refuses_anything_but_one_root() -> None:
    """Two roots, or an invalid element name, cannot be sent."""
    with pytest.raises(PayloadEncodeError):
        STRICT.encode({"a": 1, "b": 2})
    with pytest.raises(PayloadEncodeError):
        STRICT.encode({"bad name": 1})


def test_json_round_trip_with_decimals_and_dates() -> None:
    """Decimals become JSON numbers and dates ISO strings on the way out."""
    codec = JsonCodec()
    encoded = codec.encode(
        {"qty": Decimal("3"), "price": Decimal("12.50"), "on": dt.date(2026, 1, 5)}
    )
    assert codec.decode(encoded) == {"qty": 3, "price": 12.5, "on": "2026-01-05"}


def test_json_errors_both_ways() -> None:
    """Unparsable replies and unencodable params raise their own errors."""
    with pytest.raises(PayloadError, match="not JSON"):
        JsonCodec().decode(b'{"FbiJson":{"Ticket":{"Key":"\xff\xfe\x00","UserID":')
    with pytest.raises(PayloadEncodeError):
        JsonCodec().encode({"x": object()})


def test_text_codec_encodes_in_its_charset_and_refuses_bad_bytes() -> None:
    """Text goes out in the configured encoding; undecodable replies are payload errors."""
    assert TextCodec("latin-1").encode("M\u00fcller") == b"M\xfcller"
    with pytest.raises(PayloadError):
        TextCodec("utf-8").decode(b"\xff")
    with pytest.raises(PayloadEncodeError):
        TextCodec("ascii").encode("\u00fc")
    with pytest.raises(LookupError):
        TextCodec("no-such-charset")
