"""Fishbowl status codes map onto the adapter error tree, transient and permanent as documented."""

from __future__ import annotations

import pytest

from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    SessionExpired,
)
from adapters.wms.status import RELOGIN, status_error

TABLE: list[tuple[int, type[AdapterError]]] = [
    (1001, InvalidRequest),  # unknown message
    (1002, BackendUnavailable),  # connection to the server lost
    (1004, BackendFault),  # database error
    (1009, BackendUnavailable),  # server shut down
    (1010, SessionExpired),  # logged off by an administrator
    (1012, BackendFault),  # general error
    (1100, AccessDenied),  # unknown login error
    (1112, AccessDenied),  # integrated application not approved
    (1120, AccessDenied),  # invalid username or password
    (1130, AccessDenied),  # invalid ticket (after the one re-login)
    (1131, AccessDenied),  # invalid ticket key (after the one re-login)
    (1150, InvalidRequest),  # request invalid
    (1162, BackendUnavailable),  # login limit reached
    (1163, SessionExpired),  # session timed out
    (1164, SessionExpired),  # session logged out
    (2000, NotFound),  # part not found
    (2001, BackendFault),  # part invalid
    (2002, BackendFault),  # no unique part
    (2600, NotFound),  # location not found
    (3000, NotFound),  # customer not found
    (4203, Conflict),  # BOM not up to date, must be reloaded
    (5201, NotFound),  # shipment not found
    (5202, Conflict),  # shipment status error
    (5205, Conflict),  # already shipped
    (9999, BackendFault),  # a code nobody documented
]


@pytest.mark.parametrize(("code", "expected"), TABLE)
def test_status_code_maps_to_its_error_class(code: int, expected: type[AdapterError]) -> None:
    """Each code becomes exactly the documented class, carrying backend, operation and code."""
    error = status_error(code, "text", backend="wms", operation="InvQty")
    assert type(error) is expected
    assert (error.backend, error.operation, error.code, error.message) == (
        "wms",
        "InvQty",
        code,
        "text",
    )


@pytest.mark.parametrize("code", [900, 1000])
def test_success_codes_are_not_errors(code: int) -> None:
    """1000 and the deprecated-but-successful 900 raise nothing."""
    assert status_error(code, "", backend="wms", operation="InvQty") is None


def test_transient_codes_are_exactly_the_session_and_shutdown_ones() -> None:
    """Only 1002/1009/1010/1162/1163/1164 are worth retrying; the rest are permanent."""
    transient = {
        code
        for code in range(900, 8000)
        if (error := status_error(code, "", backend="b", operation="o")) and error.transient
    }
    assert transient == {1002, 1009, 1010, 1162, 1163, 1164}


def test_relogin_codes_are_session_end_and_unknown_ticket() -> None:
    """The adapter logs in again for ended sessions and for tickets the server does not know."""
    assert frozenset({1010, 1130, 1131, 1163, 1164}) == RELOGIN


def test_missing_message_falls_back_to_the_code() -> None:
    """An empty statusMessage still yields a readable message."""
    error = status_error(1012, "", backend="wms", operation="Ship")
    assert error is not None
    assert error.message == "Fishbowl status 1012"
