"""The named converters for real-world value quirks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapters.mapping import BUILTIN_CONVERTERS as C
from adapters.mapping import ConversionError


def test_odoo_false_is_null_but_other_falsy_values_survive() -> None:
    """Only Odoo's False-for-empty becomes null; 0 and '' are real values."""
    assert C["odoo_false"](False) is None
    assert C["odoo_false"](0) == 0 and C["odoo_false"]("") == ""


def test_many2one_pairs_become_objects() -> None:
    """[id, name] → {id, name}; False → null; garbage is an error."""
    assert C["many2one"]([57, "Germany"]) == {"id": 57, "name": "Germany"}
    assert C["many2one"](False) is None
    with pytest.raises(ConversionError):
        C["many2one"](["x", "y"])


def test_zoneless_utc_datetimes_get_a_z() -> None:
    """Odoo's 'YYYY-MM-DD HH:MM:SS' (UTC, no zone) becomes ISO 8601 with Z; aware values are normalised."""
    assert C["utc_datetime"]("2026-01-05 08:00:00") == "2026-01-05T08:00:00Z"
    aware = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert C["utc_datetime"](aware) == "2026-01-05T08:00:00Z"
    assert C["utc_datetime"](False) is None
    with pytest.raises(ConversionError):
        C["utc_datetime"]("yesterday")


def test_decimals_as_strings_or_numbers_by_choice() -> None:
    """`decimal` keeps exact strings; `number` gives JSON numbers, integers staying integers."""
    assert C["decimal"]("1234.50") == "1234.50"
    assert C["decimal"](Decimal("0.1")) == "0.1"
    assert C["number"]("1234.50") == 1234.5
    assert C["number"]("12.000") == 12 and isinstance(C["number"]("12.000"), int)


@pytest.mark.parametrize("zero", [0, 0.0, Decimal("0"), Decimal("0.00"), "0"])
def test_a_zero_amount_is_zero_not_nothing(zero: object) -> None:
    """A free order line's 0 (int, float, Decimal or text) stays 0; only None, False and "" are null."""
    assert C["decimal"](zero) in {"0", "0.0", "0.00"}
    assert C["number"](zero) == 0 and C["number"](zero) is not None
    assert C["int"](zero) == 0 and C["int"](zero) is not None
    for nothing in (None, False, ""):
        assert C["decimal"](nothing) is None and C["number"](nothing) is None


@pytest.mark.parametrize(
    "hostile",
    [
        "1E+1000000",
        Decimal("1E+999999999"),
        "-1e-5000",
        "NaN",
        "sNaN",
        "Infinity",
        float("inf"),
        float("nan"),
    ],
)
@pytest.mark.parametrize("converter", ["decimal", "number", "int"])
def test_a_number_no_client_could_use_is_a_conversion_error_at_once(
    hostile: object, converter: str
) -> None:
    """Non-finite values and exponents past 1000 are refused as conversion errors (a 502), not
    written out over minutes of event loop, nor raised as OverflowError or InvalidOperation."""
    with pytest.raises(ConversionError):
        C[converter](hostile)


def test_the_largest_sane_decimal_still_converts() -> None:
    """Exponents up to 1000 either way are read as usual: the bound is about abuse, not money."""
    assert C["decimal"]("1E+1000") == "1" + "0" * 1000
    assert C["number"]("1.5E-1000") == float("1.5E-1000")


def test_dates_booleans_and_csv() -> None:
    """Dates normalise to YYYY-MM-DD, legacy booleans ('X', 'yes') parse, CSV splits and trims."""
    assert C["date"]("2026-01-05T00:00:00") == "2026-01-05"
    assert C["bool"]("X") is True and C["bool"]("no") is False
    assert C["csv"]("A, B,,C") == ["A", "B", "C"]


def shout(value: object) -> object:
    """A third-party converter, registered below through an entry point."""
    return f"{value}!"


def test_converters_come_from_entry_points_without_shadowing_builtins() -> None:
    """A veneer.converters entry point adds a converter; one named like a built-in is ignored."""
    from importlib.metadata import EntryPoint

    from adapters.mapping import load_converters

    here = "tests.unit.adapters.mapping.test_converters:shout"
    found = load_converters(
        lambda: [
            EntryPoint("shout", here, "veneer.converters"),
            EntryPoint("int", here, "veneer.converters"),
        ]
    )
    assert found["shout"]("hi") == "hi!"
    assert found["int"]("7") == 7


def test_odoo_order_is_total_for_stable_paging() -> None:
    """API sort keys become Odoo orders with id as the tie-breaker; junk is refused."""
    assert C["odoo_order"]("-write_date") == "write_date desc, id asc"
    assert C["odoo_order"]("name") == "name asc, id asc"
    assert C["odoo_order"](None) == "id asc"
    with pytest.raises(ConversionError):
        C["odoo_order"]("name; drop")
