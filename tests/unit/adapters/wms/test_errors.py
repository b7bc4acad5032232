"""Wire failures translate into the adapter error tree in one function, and envelopes parse."""

from __future__ import annotations

import errno

import pytest

from adapters.errors import (
    AdapterError,
    BackendTimeout,
    ConnectFailed,
    InvalidRequest,
    ProtocolError,
)
from adapters.wms.envelope import parse_reply, request_document
from adapters.wms.errors import WIRE_ERRORS, translate
from adapters.wms.framing import FrameEncodeError, FrameError
from adapters.wms.payload import PayloadEncodeError, PayloadError
from adapters.wms.pool import ConnectionLost, ConnectTimeout, ReadTimeout


@pytest.mark.parametrize(
    ("raised", "expected", "text"),
    [
        (ConnectTimeout(0.25), BackendTimeout, "no connection within 0.250s"),
        (ReadTimeout(1.5), BackendTimeout, "no complete reply within 1.500s"),
        (TimeoutError(), BackendTimeout, "deadline of 2.000s passed"),
        (FrameError("frame of 9 bytes exceeds"), ProtocolError, "bad frame"),
        (PayloadError("reply is not JSON"), ProtocolError, "not JSON"),
        (FrameEncodeError("too long"), InvalidRequest, "cannot send"),
        (PayloadEncodeError("not JSON"), InvalidRequest, "cannot send"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ConnectFailed, "refused"),
        (
            ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
            ConnectFailed,
            "reset",
        ),
        (ConnectionLost("closed by the peer"), ConnectFailed, "closed by the peer"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), ConnectFailed, "No route"),
    ],
)
def test_translate_maps_each_wire_failure(
    raised: Exception, expected: type[AdapterError], text: str
) -> None:
    """Every failure below the adapter becomes one documented class, with backend and operation."""
    assert isinstance(raised, WIRE_ERRORS)
    error = translate(raised, backend="wms", operation="InvQty", deadline=2.0)
    assert type(error) is expected
    assert (error.backend, error.operation) == ("wms", "InvQty")
    assert text in error.message


def test_request_document_wraps_one_message_in_the_dialects_root() -> None:
    """Requests are FbiJson or FbiXml envelopes with the ticket and one <Name>Rq."""
    assert request_document("json", "k", "InvQty", {"PartNum": "A"}) == {
        "FbiJson": {"Ticket": {"Key": "k"}, "FbiMsgsRq": {"InvQtyRq": {"PartNum": "A"}}}
    }
    assert next(iter(request_document("xml", "", "Logout", {}))) == "FbiXml"


def test_the_message_status_wins_over_the_envelope() -> None:
    """The <Name>Rs statusCode is the specific one; the body loses its status fields."""
    reply = parse_reply(
        {
            "FbiJson": {
                "Ticket": {"Key": "k", "UserID": 1},
                "FbiMsgsRs": {
                    "statusCode": 1003,
                    "PartGetRs": {"statusCode": 2000, "statusMessage": "no part", "X": 1},
                },
            }
        },
        "json",
        "PartGet",
    )
    assert (reply.status, reply.message, reply.body, reply.ticket_key) == (
        2000,
        "no part",
        {"X": 1},
        "k",
    )


def test_an_envelope_only_failure_is_read_from_the_envelope() -> None:
    """A reply without the message (a request the server could not parse) uses the envelope."""
    document = {"FbiXml": {"FbiMsgsRs": {"statusCode": "1150", "statusMessage": "invalid"}}}
    reply = parse_reply(document, "xml", "InvQty")
    assert (reply.status, reply.message, reply.body, reply.ticket_key) == (1150, "invalid", {}, "")
