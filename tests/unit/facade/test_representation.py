"""The JSON clients get: canonical bytes, and decimals written out only when that is sane."""

from __future__ import annotations

from decimal import Decimal

import orjson

from facade.routes.representation import canonical_json


def test_a_decimal_is_written_out_in_full() -> None:
    """Money passes through as its exact digits, without exponent, and keys come out sorted."""
    assert canonical_json({"b": Decimal("1234.50"), "a": Decimal("1E+3")}) == (
        b'{"a":"1000","b":"1234.50"}'
    )


def test_an_enormous_decimal_from_a_backend_stays_short() -> None:
    """A reply's 1E+999999999, passed through unconverted, is answered as that text, not as a
    billion digits built on the event loop."""
    body = canonical_json({"amount": Decimal("1E+999999999"), "tiny": Decimal("-2E-5000")})
    assert orjson.loads(body) == {"amount": "1E+999999999", "tiny": "-2E-5000"}
