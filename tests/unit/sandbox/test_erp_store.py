"""Unit tests of the sandbox ERP's business layer: NAV filter criteria, Key tokens, the store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sandbox.dataset import build_world
from sandbox.erp.criteria import CriteriaError, compile_criteria
from sandbox.erp.errors import NavFault
from sandbox.erp.fieldtypes import BOOLEAN, DATE, DECIMAL, TEXT, option_type
from sandbox.erp.keys import (
    SALES_HEADER_TABLE,
    InvalidKey,
    RecordKey,
    decode_key,
    encode_key,
)
from sandbox.erp.order_writes import OrderInput
from sandbox.erp.store import ErpStore

WORLD = build_world()


def matching(criteria: str, values: list[object], field_type=TEXT) -> list[object]:
    test = compile_criteria(criteria, field_type)
    return [value for value in values if test(value)]


@pytest.fixture
def store() -> ErpStore:
    return ErpStore(WORLD, today=lambda: date(2026, 3, 1))


# --- filter criteria -----------------------------------------------------------------------


def test_exact_value_matches_only_itself_case_sensitively() -> None:
    """A bare value is an exact, case-sensitive match."""
    assert matching("SO-2", ["SO-1", "SO-2", "so-2", "SO-20"]) == ["SO-2"]


def test_alternatives_match_any_of_them() -> None:
    """``A|B`` keeps values equal to either side."""
    assert matching("Open|Released", ["Open", "Released", "Pending"]) == ["Open", "Released"]


def test_ranges_include_both_ends_and_may_be_open() -> None:
    """``a..b`` is inclusive, and ``..b`` / ``a..`` leave one side open."""
    values = ["A", "B", "C", "D"]
    assert matching("B..C", values) == ["B", "C"]
    assert matching("..B", values) == ["A", "B"]
    assert matching("C..", values) == ["C", "D"]


def test_comparison_operators() -> None:
    """``<``, ``>``, ``<=``, ``>=``, ``<>`` compare against the value after them."""
    values = [Decimal(n) for n in (1, 2, 3)]
    assert matching("<2", values, DECIMAL) == [Decimal(1)]
    assert matching(">2", values, DECIMAL) == [Decimal(3)]
    assert matching("<=2", values, DECIMAL) == [Decimal(1), Decimal(2)]
    assert matching(">=2", values, DECIMAL) == [Decimal(2), Decimal(3)]
    assert matching("<>2", values, DECIMAL) == [Decimal(1), Decimal(3)]


def test_decimals_compare_as_numbers_not_text() -> None:
    """``Amount`` filters compare numerically: 9 is below 10 even though "9" > "10" as text."""
    values = [Decimal("9"), Decimal("10.50"), Decimal("100")]
    assert matching("<10", values, DECIMAL) == [Decimal("9")]
    assert matching("10.5", values, DECIMAL) == [Decimal("10.50")]


def test_dates_compare_as_dates() -> None:
    """``Order_Date`` ranges compare calendar dates."""
    values = [date(2026, 1, 9), date(2026, 1, 10), date(2026, 2, 1)]
    assert matching("2026-01-10..2026-01-31", values, DATE) == [date(2026, 1, 10)]


def test_wildcards_match_any_run_or_one_character() -> None:
    """``*`` matches any run of characters and ``?`` exactly one."""
    values = ["1000-BK", "1000-WH", "1100-BK", "10000-BK"]
    assert matching("1000-*", values) == ["1000-BK", "1000-WH"]
    assert matching("1?00-BK", values) == ["1000-BK", "1100-BK"]


def test_at_sign_makes_text_case_insensitive() -> None:
    """``@`` folds case for exact values, wildcards and ranges alike."""
    values = ["Contoso Retail", "CONTOSO Goods", "Fabrikam"]
    assert matching("@contoso*", values) == ["Contoso Retail", "CONTOSO Goods"]
    assert matching("@fabrikam", values) == ["Fabrikam"]
    assert matching("contoso*", values) == []


def test_conjunction_and_inequality_combine() -> None:
    """``A&B`` keeps values passing both terms."""
    values = ["A", "B", "C", "D"]
    assert matching("A..C&<>B", values) == ["A", "C"]


def test_quoted_values_are_literal_and_empty_quotes_match_blank() -> None:
    """Quotes protect ``|`` and ``*`` in a value, and ``''`` matches a blank or missing value."""
    values = ["A|B", "A", "*", None, ""]
    assert matching("'A|B'", values) == ["A|B"]
    assert matching("'*'", values) == ["*"]
    assert matching("''", values) == [None, ""]


def test_options_follow_their_declared_order() -> None:
    """An option range uses NAV's option order, not alphabetical order."""
    status = option_type("Open", "Released", "Pending_Approval", "Pending_Prepayment")
    values = ["Pending_Prepayment", "Open", "Released", "Pending_Approval"]
    assert matching("Open..Released", values, status) == ["Open", "Released"]
    assert matching("released", values, status) == ["Released"]


def test_booleans_read_yes_no_and_true_false() -> None:
    """``Blocked`` takes NAV's Yes/No as well as true/false."""
    assert matching("Yes", [True, False], BOOLEAN) == [True]
    assert matching("false", [True, False], BOOLEAN) == [False]


def test_empty_criteria_match_everything() -> None:
    """An empty Criteria is no filter at all."""
    assert matching("", ["x", None]) == ["x", None]


@pytest.mark.parametrize(
    ("criteria", "field_type"),
    [("abc", DATE), ("1..x", DECIMAL), ("maybe", BOOLEAN), ("1..2..3", TEXT)],
)
def test_unreadable_criteria_raise(criteria: str, field_type) -> None:
    """A value the field type cannot read is a CriteriaError, not a silent non-match."""
    with pytest.raises(CriteriaError):
        compile_criteria(criteria, field_type)


# --- Key tokens ----------------------------------------------------------------------------


def test_key_round_trips_table_fields_and_version() -> None:
    """A Key decodes back to the table, primary key and version it was made from."""
    key = RecordKey(SALES_HEADER_TABLE, (1, "SO-100001"), 4432905)
    text = encode_key(key)
    assert text.endswith(";4432905;")
    assert decode_key(text) == key


def test_key_looks_like_navs() -> None:
    """A Key has NAV's shape: length;base64 bookmark + digit;timestamp; with the stated length."""
    length, bookmark, version, tail = encode_key(RecordKey(27, ("1000-BK",), 7)).split(";")
    assert int(length) == len(bookmark) - 1
    assert bookmark[-1].isdigit()
    assert (version, tail) == ("7", "")


def test_a_new_version_gives_a_new_key() -> None:
    """The same record at another version has another Key (the concurrency token changes)."""
    first = encode_key(RecordKey(27, ("1000-BK",), 1))
    assert encode_key(RecordKey(27, ("1000-BK",), 2)) != first


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "28;GwAAAAJ7BzEAMAAwADAALQBCAEsA8;12",
        "28;GwAAAAJ7BzEAMAAwADAALQBCAEsA9;12;",  # wrong check digit
        "28;GwAAAAJ7BzEAMAAwADAALQBCAEs!8;12;",  # not base64
        "8;GwAAAAJ72;12;",  # truncated bookmark
    ],
)
def test_damaged_keys_are_refused(text: str) -> None:
    """Anything this ERP did not hand out is an InvalidKey."""
    assert decode_key(encode_key(RecordKey(27, ("1000-BK",), 12))).fields == ("1000-BK",)
    with pytest.raises(InvalidKey):
        decode_key(text)


# --- the store -----------------------------------------------------------------------------


def test_store_copies_the_world_without_sharing_records(store: ErpStore) -> None:
    """The ERP holds every world order and item, and its writes never reach the shared world."""
    assert len(store.orders) == len(WORLD.orders)
    assert len(store.items) == len(WORLD.items)
    order = store.read_order("SO-100001")
    assert order is not None
    store.update_order(OrderInput(fields={"Key": order.key, "External_Document_No": "X-1"}))
    assert WORLD.orders[0].external_document_no != "X-1"


def test_create_numbers_from_the_series_and_computes_amounts(store: ErpStore) -> None:
    """Create assigns SO-100421, fills the customer name and item defaults, and sums the lines."""
    item = WORLD.items[0] if not WORLD.items[0].blocked else WORLD.items[1]
    order = store.create_order(
        OrderInput(
            fields={"Sell_to_Customer_No": "C00001"},
            lines=[{"Type": "Item", "No": item.no, "Quantity": "3"}],
        )
    )
    assert order.no == "SO-100421"
    assert order.customer_name == next(c.name for c in WORLD.customers if c.ref == "C00001")
    assert order.order_date == date(2026, 3, 1)
    assert order.lines[0].line_no == 10000
    assert order.lines[0].line_amount == item.unit_price * 3
    assert order.amount == item.unit_price * 3
    assert store.next_order_no() == "SO-100422"


@pytest.mark.parametrize(
    ("fields", "lines", "message"),
    [
        ({"Sell_to_Customer_No": "C99999"}, [], "The Customer does not exist"),
        ({"Sell_to_Customer_No": "P00001"}, [], "The Customer does not exist"),
        ({}, [], "Sell-to Customer No. must have a value"),
        ({"Sell_to_Customer_No": "C00001"}, [{"No": "NOPE"}], "The Item does not exist"),
        ({"Sell_to_Customer_No": "C00001", "Status": "Shipped"}, [], "can't be evaluated"),
    ],
)
def test_create_refusals(store: ErpStore, fields, lines, message: str) -> None:
    """Create refuses unknown customers (contacts included), missing customers and unknown items."""
    with pytest.raises(NavFault, match=message):
        store.create_order(OrderInput(fields=fields, lines=lines))
    assert len(store.orders) == len(WORLD.orders)


def test_create_refuses_blocked_items(store: ErpStore) -> None:
    """A line for a blocked item gets NAV's Blocked must be equal to 'No' fault."""
    blocked = next(item for item in WORLD.items if item.blocked)
    with pytest.raises(NavFault, match="Blocked must be equal to 'No'"):
        store.create_order(
            OrderInput(fields={"Sell_to_Customer_No": "C00001"}, lines=[{"No": blocked.no}])
        )


def test_update_changes_only_sent_fields_and_the_key(store: ErpStore) -> None:
    """Update applies the fields present, leaves the rest, and hands out a new Key."""
    before = store.read_order("SO-100002")
    assert before is not None
    key, status = before.key, before.status
    after = store.update_order(OrderInput(fields={"Key": key, "External_Document_No": "PO-9"}))
    assert after.external_document_no == "PO-9"
    assert after.status == status
    assert after.key != key


def test_stale_key_is_refused_and_changes_nothing(store: ErpStore) -> None:
    """A second Update with the first Key gets NAV's concurrency fault and writes nothing."""
    order = store.read_order("SO-100003")
    assert order is not None
    stale = order.key
    store.update_order(OrderInput(fields={"Key": stale, "Currency_Code": "EUR"}))
    with pytest.raises(NavFault, match="Another user has modified the record"):
        store.update_order(OrderInput(fields={"Key": stale, "Currency_Code": "GBP"}))
    current = store.read_order("SO-100003")
    assert current is not None
    assert current.currency_code == "EUR"


def test_refused_update_leaves_the_order_untouched(store: ErpStore) -> None:
    """An Update failing on its second line keeps the first line's change out too."""
    order = store.read_order("SO-100004")
    assert order is not None
    amount, key = order.amount, order.key
    first = order.lines[0]
    with pytest.raises(NavFault):
        store.update_order(
            OrderInput(
                fields={"Key": key},
                lines=[{"Key": first.key(order.no), "Quantity": "999"}, {"No": "NOPE"}],
            )
        )
    current = store.read_order("SO-100004")
    assert current is not None
    assert (current.amount, current.key) == (amount, key)


def test_update_edits_keyed_lines_and_appends_new_ones(store: ErpStore) -> None:
    """A line with a Key is edited in place; a line without one is added at the next Line_No."""
    order = store.read_order("SO-100005")
    assert order is not None
    count, first, item = len(order.lines), order.lines[0], WORLD.items[5]
    updated = store.update_order(
        OrderInput(
            fields={"Key": order.key},
            lines=[{"Key": first.key(order.no), "Quantity": "2"}, {"No": item.no, "Quantity": "1"}],
        )
    )
    assert len(updated.lines) == count + 1
    assert updated.lines[0].quantity == 2
    assert updated.lines[-1].line_no == max(line.line_no for line in order.lines) + 10000
    assert updated.amount == sum(line.line_amount for line in updated.lines)


def test_paging_resumes_after_a_deleted_bookmark(store: ErpStore) -> None:
    """A bookmark whose record was deleted still pages on from where that record stood."""
    first_page = store.read_orders([], None, 2)
    store.delete_order(first_page[-1].key)
    next_page = store.read_orders([], first_page[-1].key, 2)
    assert [order.no for order in next_page] == ["SO-100003", "SO-100004"]


def test_filters_on_unknown_fields_and_bad_criteria_are_faults(store: ErpStore) -> None:
    """ReadMultiple refuses a field the page lacks and criteria its type cannot read."""
    with pytest.raises(NavFault, match="does not exist"):
        store.read_orders([("Colour", "Red")], None, 0)
    with pytest.raises(NavFault, match='The filter "soon" is not valid for the Order Date'):
        store.read_orders([("Order_Date", "soon")], None, 0)
