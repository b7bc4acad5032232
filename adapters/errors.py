"""The one error tree every adapter raises.

::

    AdapterError                      backend, operation, retry_after
    ├── TransientError                worth retrying later; counts against the breaker
    │   ├── ConnectFailed             refused, reset, unreachable
    │   ├── BackendTimeout            connect or read took longer than configured
    │   ├── BackendUnavailable        HTTP 502/503/504, a server fault marked transient, Fishbowl 1009
    │   └── SessionExpired            the backend ended our session (Fishbowl 1010/1163/1164)
    └── PermanentError                the same call would fail the same way again
        ├── BackendFault              the backend answered "no" (SOAP client fault, Odoo fault 1/2)
        │   ├── NotFound              no such record
        │   ├── Conflict              optimistic-concurrency token was stale
        │   └── AccessDenied          authentication (Odoo 3, Fishbowl 1120) or authorisation (Odoo 4)
        ├── InvalidRequest            the params cannot be sent (validation, unknown operation)
        └── ProtocolError             the reply is not the protocol: malformed, hostile or oversize

Each adapter translates the errors of the library and system underneath it in exactly one
place and raises from this tree with ``raise ... from exc``. Messages are for operators' logs;
the facade never shows them to clients as they are (a SOAP fault string can carry internals).
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AdapterError",
    "BackendFault",
    "BackendTimeout",
    "BackendUnavailable",
    "Conflict",
    "ConnectFailed",
    "InvalidRequest",
    "NotFound",
    "PermanentError",
    "ProtocolError",
    "SessionExpired",
    "TransientError",
]


class AdapterError(Exception):
    """A backend call failed. ``code`` is the backend's own error code, when it has one."""

    transient: bool = False
    #: Whether the failure says the backend is unhealthy (breakers count these).
    backend_failure: bool = False

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        operation: str = "",
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend
        self.operation = operation
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = ".".join(part for part in (self.backend, self.operation) if part)
        code = f" [{self.code}]" if self.code is not None else ""
        return f"{where}: {self.message}{code}" if where else f"{self.message}{code}"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[AdapterError], message: str, state: dict[str, object]) -> AdapterError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class TransientError(AdapterError):
    """The backend could not answer now; the same call may succeed later."""

    transient = True
    backend_failure = True


class ConnectFailed(TransientError):
    """The connection was refused, reset or could not be opened."""


class BackendTimeout(TransientError):
    """Connecting or reading took longer than the configured timeout."""


class BackendUnavailable(TransientError):
    """The backend said it is unavailable (HTTP 502/503/504, a transient server fault)."""


class SessionExpired(TransientError):
    """The backend ended the session under us; log in again and resend."""


class PermanentError(AdapterError):
    """Retrying the same call would fail the same way."""


class BackendFault(PermanentError):
    """The backend answered with a business or client error."""


class NotFound(BackendFault):
    """The record asked for does not exist."""


class Conflict(BackendFault):
    """The record changed since it was read (a stale concurrency token)."""


class AccessDenied(BackendFault):
    """The backend refused our credentials, or our user may not do this."""


class InvalidRequest(PermanentError):
    """The call cannot be made as asked: unknown operation, params that do not fit."""


class ProtocolError(PermanentError):
    """The reply broke the protocol: malformed, hostile (entities, DTDs) or too large.

    Not worth retrying, but it does say the backend is broken, so breakers count it.
    """

    backend_failure = True
