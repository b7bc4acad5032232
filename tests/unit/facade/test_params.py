"""Declared parameters: what reaches a template is typed, bounded and carriable by any protocol."""

from __future__ import annotations

import pytest

from facade.routes.params import ParamValidator
from facade.settings import Param

VALIDATOR = ParamValidator(
    {
        "near": Param(in_="query", type="number"),
        "near_all": Param(in_="query", type="array", items="number"),
        "q": Param(in_="query"),
    },
    path_params=(),
    reserved=set(),
)


def errors_for(query: dict[str, str]) -> dict[str, str]:
    *_, errors = VALIDATOR.validate({}, query, {})
    return {error.field: error.message for error in errors}


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_a_number_parameter_must_be_finite(raw: str) -> None:
    """NaN and infinities parse as floats but no backend can use them: 400, naming the value."""
    assert errors_for({"near": raw}) == {"query.near": f"not a finite number: {raw!r}"}
    assert "query.near_all" in errors_for({"near_all": f"1.5,{raw}"})


def test_finite_numbers_pass_typed() -> None:
    """Ordinary numbers, exponents included, arrive as floats."""
    _, query, _, errors = VALIDATOR.validate({}, {"near": "2.5e3", "near_all": "1,-2.5"}, {})
    assert errors == []
    assert query == {"near": 2500.0, "near_all": [1.0, -2.5]}


@pytest.mark.parametrize(("raw", "code_point"), [("a\ufffeb", "U+FFFE"), ("\uffff", "U+FFFF")])
def test_a_noncharacter_in_text_is_refused(raw: str, code_point: str) -> None:
    """U+FFFE and U+FFFF, which XML cannot carry, are refused like control characters."""
    assert code_point in errors_for({"q": raw})["query.q"]
