"""The CRM sandbox's Odoo domain evaluator and order clauses."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.crm.domain import (
    M2O,
    DomainError,
    OrderTerm,
    compile_domain,
    parse_order,
    sort_records,
)

RECORDS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Adatum Traders",
        "city": "Berlin",
        "is_company": True,
        "email": None,
        "rank": 3,
        "country": M2O(57, "Germany"),
        "tags": [1, 2],
    },
    {
        "id": 2,
        "name": "anna chen",
        "city": "Hamburg",
        "is_company": False,
        "email": "anna@chen.example",
        "rank": 0,
        "country": M2O(57, "Germany"),
        "tags": [],
    },
    {
        "id": 3,
        "name": "Bluewater 50% Goods",
        "city": "London",
        "is_company": True,
        "email": "orders@bluewater.example",
        "rank": 7,
        "country": M2O(231, "United Kingdom"),
        "tags": [2],
    },
    {
        "id": 4,
        "name": "Contoso_Retail",
        "city": None,
        "is_company": True,
        "email": None,
        "rank": 1,
        "country": None,
        "tags": [],
    },
]


def lookup(field: str) -> Any:
    if field not in RECORDS[0]:
        raise DomainError(f"Invalid field test.{field}")
    return lambda record: record[field]


def ids(domain: Any) -> list[int]:
    predicate = compile_domain(domain, lookup)
    return [record["id"] for record in RECORDS if predicate(record)]


def test_empty_domain_matches_everything() -> None:
    """An empty domain selects every record."""
    assert ids([]) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (["city", "=", "Berlin"], [1]),
        (["city", "!=", "Berlin"], [2, 3, 4]),
        (["email", "=", False], [1, 4]),
        (["email", "!=", False], [2, 3]),
        (["is_company", "=", False], [2]),
        (["is_company", "=", True], [1, 3, 4]),
        (["rank", "=", 0], [2]),
        (["rank", ">", 0], [1, 3, 4]),
        (["rank", ">=", 3], [1, 3]),
        (["rank", "<", 3], [2, 4]),
        (["rank", "<=", 1], [2, 4]),
        (["city", "<", "I"], [1, 2]),
        (["city", "in", ["Berlin", "London"]], [1, 3]),
        (["city", "in", ["Berlin", False]], [1, 4]),
        (["city", "not in", ["Berlin"]], [2, 3, 4]),
        (["city", "not in", ["Berlin", False]], [2, 3]),
    ],
)
def test_comparison_operators_follow_odoo_sql_semantics(
    leaf: list[Any], expected: list[int]
) -> None:
    """Equality, ordering and membership match what Odoo's SQL would, empty values included."""
    assert ids([leaf]) == expected


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (["name", "ilike", "ANNA"], [2]),
        (["name", "like", "anna"], [2]),
        (["name", "like", "Anna"], []),
        (["email", "ilike", "example"], [2, 3]),
        (["email", "not ilike", "bluewater"], [1, 2, 4]),
        (["email", "not like", "example"], [1, 4]),
        (["name", "=like", "A%"], [1]),
        (["name", "=ilike", "a%"], [1, 2]),
        (["name", "=like", "Contoso_Retail"], [4]),
        (["name", "=like", "Contoso\\_Retail"], [4]),
        (["name", "=like", "Contoso\\_"], []),
        (["name", "like", "50\\%"], [3]),
        (["name", "like", "%"], [1, 2, 3, 4]),
        (["rank", "like", "7"], [3]),
    ],
)
def test_pattern_operators_use_sql_like_wildcards(leaf: list[Any], expected: list[int]) -> None:
    """like/ilike wrap the value in %...%, =like/=ilike use it as is, and \\ escapes wildcards."""
    assert ids([leaf]) == expected


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (["country", "=", 57], [1, 2]),
        (["country", "=", "Germany"], [1, 2]),
        (["country", "ilike", "king"], [3]),
        (["country", "in", [231]], [3]),
        (["country", "=", False], [4]),
        (["country", "!=", 57], [3, 4]),
        (["country", ">", 100], [3]),
    ],
)
def test_many2one_compares_by_id_or_by_name(leaf: list[Any], expected: list[int]) -> None:
    """A many2one matches integers against its id and strings against its display name."""
    assert ids([leaf]) == expected


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (["tags", "=", False], [2, 4]),
        (["tags", "!=", False], [1, 3]),
        (["tags", "in", [2]], [1, 3]),
        (["tags", "=", 1], [1]),
        (["tags", "not in", [1]], [2, 3, 4]),
    ],
)
def test_x2many_matches_when_any_id_matches(leaf: list[Any], expected: list[int]) -> None:
    """An x2many list matches a positive leaf through any id, and = False when it is empty."""
    assert ids([leaf]) == expected


def test_or_combines_the_next_two_terms() -> None:
    """'|' in prefix position ORs the two terms after it."""
    assert ids(["|", ["city", "=", "Berlin"], ["city", "=", "London"]]) == [1, 3]


def test_consecutive_terms_are_implicitly_anded() -> None:
    """Terms without an operator between them must all match."""
    assert ids([["is_company", "=", True], ["rank", ">", 1]]) == [1, 3]


def test_not_negates_the_next_term() -> None:
    """'!' negates exactly one following term."""
    assert ids(["!", ["is_company", "=", True], ["rank", "=", 0]]) == [2]


def test_or_binds_before_the_implicit_and() -> None:
    """['|', A, B, C] means (A or B) and C, while [A, '|', B, C] means A and (B or C)."""
    a, b, c = ["city", "=", "Berlin"], ["city", "=", "London"], ["rank", ">", 5]
    assert ids(["|", a, b, c]) == [3]
    assert ids([c, "|", a, b]) == [3]
    assert ids([a, "|", b, c]) == []


def test_nested_operators_evaluate_as_a_tree() -> None:
    """'&', '|' and '!' nest: & (| A B) (! C)."""
    domain = ["&", "|", ["city", "=", "Berlin"], ["city", "=", "Hamburg"], "!", ["rank", "=", 0]]
    assert ids(domain) == [1]


def test_constant_leaves_are_always_true_or_false() -> None:
    """Odoo's TRUE_LEAF (1, '=', 1) matches everything and FALSE_LEAF (0, '=', 1) nothing."""
    assert ids([[1, "=", 1]]) == [1, 2, 3, 4]
    assert ids([[0, "=", 1]]) == []


def test_operators_are_case_insensitive_and_aliases_work() -> None:
    """'ILIKE' is 'ilike' and '<>' is '!=', as Odoo accepts them."""
    assert ids([["name", "ILIKE", "anna"]]) == [2]
    assert ids([["city", "<>", "Berlin"]]) == [2, 3, 4]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        (["|", ["city", "=", "Berlin"]], "syntactically not correct"),
        (["!"], "syntactically not correct"),
        ([["city", "=="]], "Invalid leaf"),
        ([["city", "between", 1]], "Invalid operator 'between'"),
        ([["nope", "=", 1]], "Invalid field test.nope in leaf ('nope', '=', 1)"),
        ("city = Berlin", "a domain is a list"),
        ([42], "Invalid leaf 42"),
    ],
)
def test_malformed_domains_are_rejected(domain: Any, message: str) -> None:
    """Bad syntax, operators and fields raise DomainError with Odoo's message."""
    with pytest.raises(DomainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ids(domain)


def test_comparing_incompatible_types_is_an_error() -> None:
    """Ordering a string against a number fails, as PostgreSQL refuses it."""
    with pytest.raises(DomainError, match="cannot compare"):
        ids([["city", ">", 5]])


def test_order_parses_fields_directions_and_nulls() -> None:
    """An order clause is a comma-separated list of field [asc|desc] [nulls first|last]."""
    assert parse_order('name asc, id DESC, "city" nulls first, rank desc nulls last') == [
        OrderTerm("name"),
        OrderTerm("id", descending=True),
        OrderTerm("city", nulls_first=True),
        OrderTerm("rank", descending=True, nulls_first=False),
    ]


@pytest.mark.parametrize("order", [None, False, ""])
def test_empty_order_has_no_terms(order: Any) -> None:
    """No order clause means the model's default applies."""
    assert parse_order(order) == []


@pytest.mark.parametrize("order", ["name; drop table x", "name sideways", "name,", 42])
def test_invalid_order_is_rejected(order: Any) -> None:
    """Anything but field names with directions is refused (no SQL reaches a database)."""
    with pytest.raises(DomainError):
        parse_order(order)


def sorted_ids(order: str) -> list[int]:
    return [record["id"] for record in sort_records(RECORDS, parse_order(order), lookup)]


def test_strings_sort_case_insensitively() -> None:
    """'anna chen' sorts between 'Adatum' and 'Bluewater', as a en_US collation does."""
    assert sorted_ids("name") == [1, 2, 3, 4]
    assert sorted_ids("name desc") == [4, 3, 2, 1]


def test_empty_values_sort_last_ascending_and_first_descending() -> None:
    """PostgreSQL puts NULLs last for asc and first for desc unless told otherwise."""
    assert sorted_ids("city") == [1, 2, 3, 4]
    assert sorted_ids("city desc") == [4, 3, 2, 1]
    assert sorted_ids("city asc nulls first") == [4, 1, 2, 3]
    assert sorted_ids("city desc nulls last") == [3, 2, 1, 4]


def test_later_terms_break_ties_and_input_order_breaks_the_rest() -> None:
    """Sorting is by the first term, then the next; equal records keep their input order."""
    assert sorted_ids("is_company desc, rank") == [4, 1, 3, 2]
    assert sorted_ids("is_company") == [2, 1, 3, 4]
