"""Odoo operation names and params: what is accepted, and what is refused before sending."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.crm.orm import METHODS, execute_kw_arguments, split_operation
from adapters.errors import InvalidRequest


def test_split_operation_at_the_last_dot() -> None:
    """Dotted model names keep their dots; the method is the last part."""
    assert split_operation("res.partner.search_read") == ("res.partner", "search_read")
    assert split_operation("crm.lead.action_set_won") == ("crm.lead", "action_set_won")


@pytest.mark.parametrize("operation", ["search_read", "res.partner.", ".read", "res.partner._read"])
def test_split_operation_refuses_bad_names(operation: str) -> None:
    """No model, no method, or a private method is InvalidRequest."""
    with pytest.raises(InvalidRequest):
        split_operation(operation)


def test_raw_args_and_kwargs_pass_through() -> None:
    """args/kwargs are sent as given, for any method."""
    assert execute_kw_arguments("action_set_won", {"args": [[5]], "kwargs": {"x": 1}}) == (
        [[5]],
        {"x": 1},
    )
    assert execute_kw_arguments("search", {"args": [[]]}) == ([[]], {})


def test_none_values_are_left_to_odoos_defaults() -> None:
    """A named param that is None is not sent at all."""
    assert execute_kw_arguments("search_read", {"domain": None, "limit": None}) == ([()], {})


def test_digit_strings_become_ids_and_counts() -> None:
    """Path and query params arrive as text: "7" is sent as the id 7, "10" as the limit 10."""
    assert execute_kw_arguments("read", {"ids": ["7", 8]}) == ([[7, 8]], {})
    assert execute_kw_arguments("search", {"limit": "10", "offset": "0"}) == (
        [()],
        {"offset": 0, "limit": 10},
    )
    assert execute_kw_arguments("unlink", {"ids": "7"}) == ([7], {})


def test_context_goes_to_kwargs() -> None:
    """context is a keyword of every named call."""
    args, kwargs = execute_kw_arguments("read", {"ids": [1], "context": {"lang": "de_DE"}})
    assert (args, kwargs) == ([[1]], {"context": {"lang": "de_DE"}})


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("read", {}, "needs ids"),
        ("write", {"ids": [1]}, "needs vals"),
        ("search_read", {"domian": []}, "unknown param"),
        ("search_read", {"limit": -1}, "limit must be"),
        ("search_read", {"limit": True}, "limit must be"),
        ("read", {"ids": "seven"}, "ids must be"),
        ("read", {"ids": [1], "fields": "name"}, "fields must be"),
        ("write", {"ids": [1], "vals": [1]}, "vals must be"),
        ("action_set_won", {"ids": [1]}, "takes no named params"),
        ("search", {"args": [[]], "limit": 1}, "no other params"),
        ("search", {"args": "x"}, "args must be a list"),
        ("search", {"kwargs": [1]}, "kwargs must be a mapping"),
    ],
)
def test_params_that_cannot_be_right(method: str, params: dict[str, Any], message: str) -> None:
    """Missing, unknown or mistyped params are InvalidRequest naming the problem."""
    with pytest.raises(InvalidRequest, match=message):
        execute_kw_arguments(method, params)


def test_read_only_flags() -> None:
    """Reads are read-only; create, write and unlink are not."""
    assert {name for name, m in METHODS.items() if not m.read_only} == {"create", "write", "unlink"}
