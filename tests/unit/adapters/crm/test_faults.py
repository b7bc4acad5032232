"""The one translation: faults, HTTP statuses and codec errors into the adapter error tree."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from typing import Any

import pytest

from adapters.crm.codec import CannotMarshal, MalformedReply, decode_reply
from adapters.crm.faults import (
    check_status,
    generic_fault,
    is_access_denied,
    odoo_fault,
    translated_errors,
)
from adapters.errors import (
    AccessDenied,
    AdapterError,
    BackendFault,
    BackendTimeout,
    BackendUnavailable,
    ConnectFailed,
    InvalidRequest,
    NotFound,
    ProtocolError,
)
from adapters.http import HttpReply
from tests.unit.adapters.crm.recorded import FAULT_1_TRACEBACK


def translate(exc: BaseException, faults: Any = odoo_fault, secrets: Any = ()) -> AdapterError:
    with (
        pytest.raises(AdapterError) as caught,
        translated_errors(
            backend="crm", operation="res.partner.read", faults=faults, secrets=secrets
        ),
    ):
        raise exc
    assert caught.value.__cause__ is exc
    return caught.value


MISSING = "Record does not exist or has been deleted.\n(Record: crm.lead(999,), User: 2)"


@pytest.mark.parametrize(
    ("code", "text", "error", "error_code"),
    [
        (1, "Traceback (most recent call last):\n  File x\nKeyError: 'a'\n", BackendFault, 1),
        (2, "The field 'Name' is required", BackendFault, 2),
        (2, MISSING, NotFound, 2),
        (2, "Object sale.orderx doesn't exist", InvalidRequest, 2),
        (3, "Access Denied", AccessDenied, 3),
        (4, "You are not allowed to modify 'Lead' (crm.lead) records.", AccessDenied, 4),
        (99, "odd", BackendFault, 99),
        ("AccessDenied", "Access Denied", AccessDenied, "AccessDenied"),
        ("warning -- MissingError\n\n" + MISSING, "", NotFound, "MissingError"),
        ("warning -- AccessError\n\nYou are not allowed", "", AccessDenied, "AccessError"),
        ("warning -- UserError\n\nThe field 'Name' is required", "", BackendFault, "UserError"),
        ("warning -- UserError\n\nObject x.y doesn't exist", "", InvalidRequest, "UserError"),
        (
            "'exp_foo'",
            "Traceback (most recent call last):\nKeyError: 'exp_foo'",
            BackendFault,
            None,
        ),
    ],
    ids=[
        "1-application",
        "2-user-error",
        "2-missing-record",
        "2-unknown-model",
        "3-access-denied",
        "4-access-error",
        "other-int",
        "legacy-access-denied",
        "legacy-missing",
        "legacy-access-error",
        "legacy-user-error",
        "legacy-unknown-model",
        "legacy-application",
    ],
)
def test_odoo_fault_table(code: Any, text: str, error: type, error_code: Any) -> None:
    """Each Odoo fault, integer or legacy string code, becomes its documented error and code."""
    translated = translate(xmlrpc.client.Fault(code, text))
    assert type(translated) is error
    assert translated.code == error_code
    assert (translated.backend, translated.operation) == ("crm", "res.partner.read")


def test_fault_1_traceback_never_reaches_the_message() -> None:
    """A recorded fault 1 keeps only the traceback's last line: no frames, no paths."""
    with pytest.raises(xmlrpc.client.Fault) as fault:
        decode_reply(FAULT_1_TRACEBACK, max_depth=64, max_bytes=1 << 20)
    error = translate(fault.value)
    assert "Traceback" not in str(error)
    assert "File " not in str(error) and "/usr/lib" not in str(error)
    assert "ValueError: Invalid field res.partner.shoe_size" in error.message


def test_fault_messages_are_one_clipped_line() -> None:
    """A long multi-line fault string is one line of at most 300 characters."""
    error = translate(xmlrpc.client.Fault(2, "first\n\n" + "x" * 1000))
    assert "\n" not in error.message and len(error.message) <= 300


def test_secrets_are_blanked_out_of_messages() -> None:
    """A password echoed by the backend in a fault string does not survive translation."""
    error = translate(xmlrpc.client.Fault(2, "bad password s3cr3t-key"), secrets=("s3cr3t-key",))
    assert "s3cr3t-key" not in str(error)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-32601, InvalidRequest),
        (-32602, InvalidRequest),
        (-32700, InvalidRequest),
        (1, BackendFault),
    ],
)
def test_generic_faults(code: int, error: type) -> None:
    """For a generic server the spec's request codes are InvalidRequest, the rest BackendFault."""
    translated = translate(xmlrpc.client.Fault(code, "<class 'ValueError'>:nope"), generic_fault)
    assert type(translated) is error
    assert translated.code == code


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (MalformedReply("no element found"), ProtocolError),
        (CannotMarshal("cannot marshal None"), InvalidRequest),
        (TimeoutError(), BackendTimeout),
        (ConnectFailed("refused", backend="crm"), ConnectFailed),
    ],
)
def test_other_failures(exc: Exception, error: type) -> None:
    """Codec errors, deadlines and transport errors become their tree class, operation filled."""
    translated = translate(exc)
    assert type(translated) is error
    assert translated.operation == "res.partner.read"


def test_bugs_and_cancellation_pass_untouched() -> None:
    """A KeyError (a bug) and CancelledError propagate as they are."""
    for exc in (KeyError("bug"), asyncio.CancelledError()):
        with (
            pytest.raises(type(exc)),
            translated_errors(backend="crm", operation="x", faults=odoo_fault),
        ):
            raise exc


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (502, BackendUnavailable),
        (503, BackendUnavailable),
        (504, BackendUnavailable),
        (429, BackendUnavailable),
        (500, BackendUnavailable),
        (401, AccessDenied),
        (403, AccessDenied),
        (404, ProtocolError),
        (301, ProtocolError),
    ],
)
def test_http_statuses(status: int, error: type) -> None:
    """Every status but 200 raises: unavailable for 5xx/429, denied for 401/403, else protocol."""
    with pytest.raises(AdapterError) as caught:
        check_status(HttpReply(status, b"", {"Retry-After": "7"}), backend="crm", operation="op")
    assert type(caught.value) is error
    assert caught.value.code == status
    if status in (429, 503):
        assert caught.value.retry_after == 7.0


def test_status_200_passes() -> None:
    """HTTP 200 is the only status an XML-RPC reply (or fault) comes with."""
    check_status(HttpReply(200, b""), backend="crm", operation="op")


def test_access_denied_detection() -> None:
    """Fault 3 and the legacy 'AccessDenied' code ask for a new login; fault 4 does not."""
    assert is_access_denied(xmlrpc.client.Fault(3, "Access Denied"))
    assert is_access_denied(xmlrpc.client.Fault("AccessDenied", "Access Denied"))  # type: ignore[arg-type]
    assert not is_access_denied(xmlrpc.client.Fault(4, "no"))
