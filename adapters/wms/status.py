"""Fishbowl status codes → the adapter error tree, in one function.

Codes follow Fishbowl's own tables (``tcp/fishbowl/*.json`` in the shared samples). Transient:
the server going down (1009), the connection behind it lost (1002), the login limit reached
(1162, a seat frees up when another session ends) and the session ending under us (1010, 1163,
1164). Everything else is permanent: the same request would get the same answer.

``RELOGIN`` lists the codes after which the adapter logs in again and resends once; a code still
there after that resend is reported as mapped here (1130/1131 as AccessDenied: a freshly issued
ticket refused is not a session problem).
"""

from __future__ import annotations

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

__all__ = ["RELOGIN", "SUCCESS", "status_error"]

#: 1000 success; 900 success, but the request is deprecated.
SUCCESS = frozenset({900, 1000})
SESSION_ENDED = frozenset({1010, 1163, 1164})
#: Session ended, or the ticket is not (or no longer) known to the server.
RELOGIN = SESSION_ENDED | {1130, 1131}

_UNAVAILABLE = frozenset({1002, 1009, 1162})
_ACCESS_DENIED = frozenset({1100, 1109, 1110, 1111, 1112, 1120, 1130, 1131, 2702})
_INVALID_REQUEST = frozenset({1001, 1140, 1150})
# "Was not able to find ...", "... not found", "... cannot be found".
_NOT_FOUND = frozenset(
    {1011, 1300, 1601, 2000, 2100, 2300, 2401, 2501, 2600, 2602, 2605, 2700, 3000, 3100, 3300}
    | {4201, 4211, 4221, 4303, 5008, 5101, 5104, 5201, 5204, 5501, 5504, 7001}
)
# "... is not up to date and must be reloaded" (a stale record) and shipment state conflicts
# ("Shipment status error", "already shipped"): the record's state forbids the change.
_CONFLICT = frozenset({4203, 4213, 4223, 4308, 5005, 5106, 5202, 5205})


def status_error(code: int, message: str, *, backend: str, operation: str) -> AdapterError | None:
    """The error for a Fishbowl status ``code`` (None for success); raise it."""
    if code in SUCCESS:
        return None
    cls: type[AdapterError]
    if code in SESSION_ENDED:
        cls = SessionExpired
    elif code in _UNAVAILABLE:
        cls = BackendUnavailable
    elif code in _ACCESS_DENIED:
        cls = AccessDenied
    elif code in _INVALID_REQUEST:
        cls = InvalidRequest
    elif code in _NOT_FOUND:
        cls = NotFound
    elif code in _CONFLICT:
        cls = Conflict
    else:
        cls = BackendFault
    return cls(
        message or f"Fishbowl status {code}", backend=backend, operation=operation, code=code
    )
