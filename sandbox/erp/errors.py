"""The one error the ERP answers with: a NAV-style SOAP fault.

Everything the ERP refuses (a missing customer, a stale Key, a filter it cannot read, XML it cannot
parse) is raised as :class:`NavFault` and rendered by :mod:`sandbox.erp.envelope` as a SOAP 1.1
fault. ``Client`` faults are the caller's mistake and will fail again if repeated; ``Server``
faults are the ERP's own.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["FaultCode", "NavFault"]

FaultCode = Literal["Client", "Server", "VersionMismatch", "MustUnderstand"]


class NavFault(Exception):
    """A SOAP fault with NAV's wording; ``code`` becomes ``soap:<code>`` on the wire."""

    def __init__(self, message: str, *, code: FaultCode = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
