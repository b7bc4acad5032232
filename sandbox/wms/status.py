"""Fishbowl status codes, and the one exception that carries a code to the reply.

The numbers and texts follow Fishbowl's own tables. Both the envelope (``FbiMsgsRs``) and every
message reply (``<Name>Rs``) carry a ``statusCode``; a ``statusMessage`` accompanies every code
other than 1000, because clients such as fishbowl-js read ``Object.keys(FbiMsgsRs)[1]`` as the
message name and a success message in that slot would break them.
"""

from __future__ import annotations

import enum

__all__ = ["FbiError", "Status", "status_message"]


class Status(enum.IntEnum):
    SUCCESS = 1000
    UNKNOWN_MESSAGE = 1001
    DATABASE_ERROR = 1004
    SERVER_SHUT_DOWN = 1009
    GENERAL_ERROR = 1012
    INVALID_LOGIN = 1120
    INVALID_TICKET = 1130
    INVALID_TICKET_KEY = 1131
    REQUEST_INVALID = 1150
    SESSION_TIMED_OUT = 1163
    SESSION_LOGGED_OUT = 1164
    PART_NOT_FOUND = 2000
    SHIPMENT_NOT_FOUND = 5201
    SHIPMENT_STATUS_ERROR = 5202


_BLANK = "_________"

_MESSAGES = {
    Status.SUCCESS: "Success!",
    Status.UNKNOWN_MESSAGE: "Unknown message received.",
    Status.DATABASE_ERROR: "There was an error with the database.",
    Status.SERVER_SHUT_DOWN: "Fishbowl server has been shut down.",
    Status.GENERAL_ERROR: "General error.",
    Status.INVALID_LOGIN: "Invalid username or password.",
    Status.INVALID_TICKET: "Invalid ticket passed to Fishbowl server.",
    Status.INVALID_TICKET_KEY: "Invalid ticket key passed to Fishbowl server.",
    Status.REQUEST_INVALID: "Request was invalid.",
    Status.SESSION_TIMED_OUT: "Your API session has timed out.",
    Status.SESSION_LOGGED_OUT: "Your API session has been logged out.",
    Status.PART_NOT_FOUND: f"Was not able to find the part {_BLANK}.",
    Status.SHIPMENT_NOT_FOUND: f"Shipment not found {_BLANK}.",
    Status.SHIPMENT_STATUS_ERROR: "Shipment status error.",
}


def status_message(status: Status, detail: str | None = None) -> str:
    """Fishbowl's text for ``status``, with ``detail`` filled into its blank (or appended)."""
    text = _MESSAGES[status]
    if _BLANK in text:
        return text.replace(_BLANK, detail or "").replace(" .", ".")
    return f"{text} {detail}" if detail else text


class FbiError(Exception):
    """A request the server answers with a non-success status (the connection stays open)."""

    def __init__(self, status: Status, detail: str | None = None) -> None:
        super().__init__(status_message(status, detail))
        self.status = status
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)
