"""Mapping templates: requests become params and results become JSON, as declared."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.errors import BackendFault
from adapters.mapping import (
    REQUEST_ROOTS,
    RESPONSE_ROOTS,
    ConversionError,
    MappingError,
    compile_template,
    load_converters,
)

CONVERTERS = load_converters()


def request(spec: Any) -> Any:
    return compile_template(spec, roots=REQUEST_ROOTS, converters=CONVERTERS, missing_as_null=False)


def response(spec: Any) -> Any:
    return compile_template(spec, roots=RESPONSE_ROOTS, converters=CONVERTERS, missing_as_null=True)


def test_references_read_path_query_and_body_and_literals_stay_literal() -> None:
    """Strings starting with a root are looked up; other strings and scalars pass as literals."""
    t = request(
        {
            "No": "path.no",
            "status": "query.status",
            "name": "body.customer.name",
            "Field": "Status",
            "size": 10,
        }
    )
    scope = {
        "path": {"no": "SO-1"},
        "query": {"status": "Open"},
        "body": {"customer": {"name": "Ada"}},
    }
    assert t.render(scope) == {
        "No": "SO-1",
        "status": "Open",
        "name": "Ada",
        "Field": "Status",
        "size": 10,
    }


def test_missing_values_are_left_out_of_params_but_null_in_responses() -> None:
    """A request param whose source is absent is omitted; a response field becomes null."""
    assert request({"a": "query.a", "b": "query.b"}).render({"query": {"a": 1}}) == {"a": 1}
    assert response({"a": "result.a", "b": "result.b"}).render({"result": {"a": 1}}) == {
        "a": 1,
        "b": None,
    }


def test_when_includes_a_block_only_if_its_source_is_given() -> None:
    """A `when` form makes an optional filter appear only when the client asked for it."""
    t = request(
        {
            "filter": [
                {"when": "query.status", "value": {"Field": "Status", "Criteria": "query.status"}},
                {
                    "when": "query.customer",
                    "value": {"Field": "Sell_to_Customer_No", "Criteria": "query.customer"},
                },
            ]
        }
    )
    assert t.render({"query": {"customer": "C1"}}) == {
        "filter": [{"Field": "Sell_to_Customer_No", "Criteria": "C1"}]
    }
    assert t.render({"query": {}}) == {"filter": []}


def test_from_converts_and_defaults() -> None:
    """`from` applies a converter chain and falls back to a default when the source is absent."""
    t = request({"setSize": {"from": "query.limit", "convert": "int", "default": 25}})
    assert t.render({"query": {"limit": "10"}}) == {"setSize": 10}
    assert t.render({"query": {}}) == {"setSize": 25}


def test_each_maps_lists_and_single_elements() -> None:
    """`each` maps every element, and treats a lone element (as SOAP gives one row) as a list of one."""
    t = response(
        {
            "lines": {
                "each": "result.Lines.Line",
                "as": "line",
                "map": {"sku": "line.No", "qty": {"from": "line.Qty", "convert": "number"}},
            }
        }
    )
    two = {"result": {"Lines": {"Line": [{"No": "A", "Qty": "2"}, {"No": "B", "Qty": "1.5"}]}}}
    assert t.render(two) == {"lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1.5}]}
    assert t.render({"result": {"Lines": {"Line": {"No": "A", "Qty": "1"}}}}) == {
        "lines": [{"sku": "A", "qty": 1}]
    }
    assert t.render({"result": {"Lines": None}}) == {"lines": []}


def test_list_indexes_in_references() -> None:
    """A numeric segment indexes a list; out of range is missing, not an error."""
    t = response({"first": "result.rows.0.id", "tenth": "result.rows.9.id"})
    assert t.render({"result": {"rows": [{"id": 7}]}}) == {"first": 7, "tenth": None}


def test_const_escapes_something_that_looks_like_a_reference() -> None:
    """{const: ...} yields its value verbatim, even a string starting with a root name."""
    assert request({"x": {"const": "path.no"}}).render({"path": {"no": "1"}}) == {"x": "path.no"}


def test_compile_reports_every_problem_with_its_place() -> None:
    """Unknown converters, mistyped roots and malformed forms are all reported at compile time."""
    with pytest.raises(MappingError) as caught:
        request(
            {
                "a": {"from": "query.a", "convert": "many2onee"},
                "b": "qeury.status",
                "c": {"each": "query.x", "mapp": {}},
                "d": {"from": "literal"},
            }
        )
    found = str(caught.value)
    assert "a.convert: unknown converter 'many2onee' (did you mean 'many2one'?)" in found
    assert (
        "b: 'qeury.status' looks like a reference with a mistyped root (did you mean 'query'?)"
        in found
    )
    assert "c: unexpected key(s) ['mapp']" in found
    assert "d.from: 'from' needs a reference" in found


def test_conversion_failure_names_the_source() -> None:
    """A value a converter cannot convert fails with the reference and converter named."""
    t = request({"n": {"from": "query.n", "convert": "int"}})
    with pytest.raises(ConversionError, match=r"query.n: int: not a whole number"):
        t.render({"query": {"n": "1.5"}})


def test_sap_return_table_with_an_error_row_raises_a_permanent_fault() -> None:
    """An SAP RETURN table with a TYPE E row turns a 'successful' call into a BackendFault."""
    t = response({"ret": {"from": "result.RETURN.item", "convert": "sap_return"}})
    ok = {"result": {"RETURN": {"item": [{"TYPE": "S", "MESSAGE": "done"}]}}}
    assert t.render(ok)["ret"] == [{"TYPE": "S", "MESSAGE": "done"}]
    bad = {
        "result": {
            "RETURN": {
                "item": [
                    {"TYPE": "W"},
                    {"TYPE": "E", "ID": "V1", "NUMBER": "302", "MESSAGE": "Customer is blocked"},
                ]
            }
        }
    }
    with pytest.raises(BackendFault, match="Customer is blocked") as caught:
        t.render(bad)
    assert caught.value.code == "V1/302"


def test_lookup_table_translates_codes() -> None:
    """A `from` with `lookup` turns backend codes into names, and unknown codes into the default."""
    t = response(
        {
            "status": {
                "from": "result.s",
                "lookup": {10: "entered", 30: "shipped"},
                "default": "unknown",
            }
        }
    )
    assert t.render({"result": {"s": 30}}) == {"status": "shipped"}
    assert t.render({"result": {"s": 99}}) == {"status": "unknown"}


def test_sum_adds_a_field_over_a_list() -> None:
    """A `sum` form totals a numeric field across a list (one element counts as a list of one)."""
    t = response({"total": {"sum": "result.rows", "of": "q.on_hand"}})
    assert t.render({"result": {"rows": [{"q": {"on_hand": 2}}, {"q": {"on_hand": 5}}]}}) == {
        "total": 7
    }
    assert t.render({"result": {"rows": {"q": {"on_hand": 3}}}}) == {"total": 3}
    assert t.render({"result": {}}) == {"total": None}


def test_sum_adds_soap_decimals_and_numbers_given_as_text() -> None:
    """SOAP's xsd:decimal values and the text of numbers (XML payloads) add up to a JSON number,
    exactly, whole when whole; text that is not a finite number is a conversion error."""
    t = response({"total": {"sum": "result.rows", "of": "qty"}})

    def rows(*values: object) -> dict[str, object]:
        return {"result": {"rows": [{"qty": value} for value in values]}}

    assert t.render(rows(Decimal("1.10"), Decimal("2.20"), 3)) == {"total": 6.3}
    assert t.render(rows(Decimal("1.5"), Decimal("2.5"))) == {"total": 4}
    assert isinstance(t.render(rows(Decimal("1.5"), Decimal("2.5")))["total"], int)
    assert t.render(rows("396", " 4 ", 0.1)) == {"total": 400.1}
    assert t.render(rows(2, 5)) == {"total": 7}
    for bad in ("many", "NaN", True, float("inf"), "1E+1000000", Decimal("Infinity")):
        with pytest.raises(ConversionError, match="qty is not a number"):
            t.render(rows(1, bad))


def _walk(value: Any, segments: list[str]) -> Any:
    """A reference's meaning, written plainly: a mapping by the segment's text, a list or tuple
    by its number (negative from the end), anything else missing."""
    for segment in segments:
        if isinstance(value, Mapping):
            if segment not in value:
                return None
            value = value[segment]
        elif isinstance(value, list | tuple) and segment.isdigit():
            index = int(segment)
            if index >= len(value):
                return None
            value = value[index]
        else:
            return None
    return value


_SEGMENTS = st.sampled_from(["a", "b", "0", "1", "2"])
_LEAVES = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3)
_TREES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.dictionaries(_SEGMENTS, inner, max_size=3)
        | st.dictionaries(_SEGMENTS, inner, max_size=3).map(MappingProxyType)
        | st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(tree=_TREES, segments=st.lists(_SEGMENTS, min_size=0, max_size=4))
@example(tree={"0": {"1": "x"}}, segments=["0", "1"])  # numeric text in mappings, not indexes
@example(tree=MappingProxyType({"a": [None, ("y",)]}), segments=["a", "1", "0"])
def test_a_reference_reads_what_a_plain_walk_of_the_result_finds(
    tree: Any, segments: list[str]
) -> None:
    """Over dicts, other mappings, lists and tuples, a reference finds what a plain walk finds,
    and null where the walk finds nothing (the fast path for dicts changes no answer)."""
    reference = ".".join(["result", *segments])
    rendered = response({"value": reference}).render({"result": tree})
    assert rendered == {"value": _walk(tree, segments)}
