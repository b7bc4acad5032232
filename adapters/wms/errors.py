"""The one place where the TCP adapters' wire failures become the adapter error tree.

=====================================  ==========================================
raised underneath                      raised to the gateway
=====================================  ==========================================
``ConnectTimeout``                     ``BackendTimeout`` (connect)
``ReadTimeout``                        ``BackendTimeout`` (one exchange)
``TimeoutError`` (the call deadline)   ``BackendTimeout``
``FrameError``, ``PayloadError``       ``ProtocolError`` (oversize, garbage, hostile XML)
``FrameEncodeError``,
``PayloadEncodeError``                 ``InvalidRequest`` (params that cannot be sent)
``ConnectionRefusedError``,
``ConnectionLost``, other ``OSError``  ``ConnectFailed`` (refused, reset, closed mid-reply)
=====================================  ==========================================

Fishbowl's status codes are mapped separately, in :mod:`adapters.wms.status`.
"""

from __future__ import annotations

from adapters.errors import (
    AdapterError,
    BackendTimeout,
    ConnectFailed,
    InvalidRequest,
    ProtocolError,
)
from adapters.wms.framing import FrameEncodeError, FrameError
from adapters.wms.payload import PayloadEncodeError, PayloadError
from adapters.wms.pool import ConnectionLost, ConnectTimeout, ReadTimeout

__all__ = ["WIRE_ERRORS", "translate"]

#: What :func:`translate` understands; catch exactly these around wire work.
WIRE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes TimeoutError and ConnectionError
    FrameError,
    FrameEncodeError,
    PayloadError,
    PayloadEncodeError,
)


def translate(
    exc: Exception, *, backend: str, operation: str, deadline: float | None = None
) -> AdapterError:
    """The adapter error for ``exc``; raise it ``from exc``."""
    if isinstance(exc, ConnectTimeout | ReadTimeout):
        return BackendTimeout(str(exc), backend=backend, operation=operation)
    if isinstance(exc, TimeoutError):
        limit = f" of {deadline:.3f}s" if deadline is not None else ""
        return BackendTimeout(
            f"the call's deadline{limit} passed", backend=backend, operation=operation
        )
    if isinstance(exc, FrameError):
        return ProtocolError(f"bad frame: {exc}", backend=backend, operation=operation)
    if isinstance(exc, PayloadError):
        return ProtocolError(str(exc), backend=backend, operation=operation)
    if isinstance(exc, FrameEncodeError | PayloadEncodeError):
        return InvalidRequest(
            f"cannot send the request: {exc}", backend=backend, operation=operation
        )
    if isinstance(exc, ConnectionRefusedError):
        return ConnectFailed("connection refused", backend=backend, operation=operation)
    if isinstance(exc, ConnectionLost):
        return ConnectFailed(str(exc), backend=backend, operation=operation)
    if isinstance(exc, OSError):
        return ConnectFailed(
            f"connection failed: {exc.strerror or exc}", backend=backend, operation=operation
        )
    raise TypeError(f"translate() does not handle {type(exc).__name__}") from exc
