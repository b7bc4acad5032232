"""Odoo's error taxonomy, and how its XML-RPC controller turns each error into a fault.

Odoo code raises typed exceptions; its RPC controller maps them to ``faultCode`` values. On
``/xmlrpc/2/*`` the codes are integers (``xmlrpc_handle_exception_int``); on the older
``/xmlrpc/*`` routes the code is a string that names the error (``xmlrpc_handle_exception_string``):

======================  ====  ==========================================  ==================
exception               code  faultString (int routes)                    legacy faultCode
======================  ====  ==========================================  ==================
anything unexpected     1     the server's formatted traceback            the error message
UserError, Validation   2     a human message                             ``warning -- ...``
AccessDenied            3     ``Access Denied``                           ``AccessDenied``
AccessError             4     a human message                             ``warning -- ...``
======================  ====  ==========================================  ==================

The sandbox mirrors that: handlers raise these classes, and the server renders them in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar
from xmlrpc.client import Fault

__all__ = [
    "AccessDenied",
    "AccessError",
    "ApplicationError",
    "MissingError",
    "OdooError",
    "UserError",
    "ValidationError",
]


def _frame(path: str, line: int, function: str, code: str) -> str:
    where = f"/usr/lib/python3/dist-packages/odoo/{path}"
    return f'  File "{where}", line {line}, in {function}\n    {code}'


# The frames every RPC traceback starts with, then the frames of the service that failed. The
# line numbers are believable, not exact: the point is that clients see a traceback, as they do.
_RPC_FRAMES = (
    _frame("addons/base/controllers/rpc.py", 164, "xmlrpc_2", "response = self._xmlrpc(service)"),
    _frame("addons/base/controllers/rpc.py", 141, "_xmlrpc", "result = dispatch_rpc(service, ...)"),
    _frame("http.py", 392, "dispatch_rpc", "return dispatch(method, params)"),
)
_SERVICE_FRAMES = {
    "common": (_frame("service/common.py", 21, "dispatch", "return g[exp_method_name](*params)"),),
    "object": (
        _frame("service/model.py", 39, "dispatch", "res = execute_kw(db, uid, *params[3:])"),
        _frame("service/model.py", 66, "execute_kw", "return execute(db, uid, obj, method, ...)"),
        _frame("service/model.py", 73, "execute", "res = execute_cr(cr, uid, obj, method, ...)"),
        _frame("service/model.py", 57, "execute_cr", "result = retrying(partial(...), env)"),
        _frame("api.py", 461, "call_kw", "result = _call_kw_multi(method, model, args, kwargs)"),
    ),
}


def _string_fault(code: str, text: str) -> Fault:
    """A fault with a string code, as the legacy routes send (typeshed expects an int)."""
    fault_code: Any = code
    return Fault(fault_code, text)


class OdooError(Exception):
    """An error Odoo reports to an RPC client as a fault."""

    fault_code: ClassVar[int] = 1
    legacy_name: ClassVar[str] = "UserError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_fault(self) -> Fault:
        """The fault ``/xmlrpc/2/*`` answers with: an integer code."""
        return Fault(self.fault_code, self.message)

    def to_legacy_fault(self) -> Fault:
        """The fault the older ``/xmlrpc/*`` routes answer with: a string code."""
        return _string_fault(f"warning -- {self.legacy_name}\n\n{self.message}", "")


class UserError(OdooError):
    """A business rule said no; the message is meant for a human (fault 2)."""

    fault_code = 2


class ValidationError(UserError):
    """A constraint rejected the values written (fault 2)."""


class MissingError(UserError):
    """The records written to do not exist, or no longer do (fault 2)."""

    legacy_name = "MissingError"


class AccessDenied(OdooError):
    """Wrong login, password, API key or uid: the caller must authenticate again (fault 3)."""

    fault_code = 3

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)

    def to_legacy_fault(self) -> Fault:
        return _string_fault("AccessDenied", self.message)


class AccessError(OdooError):
    """The user is known but may not do this to these records (fault 4)."""

    fault_code = 4
    legacy_name = "AccessError"


class ApplicationError(OdooError):
    """Anything else: Odoo answers with the server's Python traceback as the faultString (fault 1).

    ``exc_type`` and ``detail`` are the exception the traceback ends with, e.g. ``KeyError`` and
    ``'exp_foo'``; ``where`` picks the frames of the service that failed.
    """

    fault_code = 1

    def __init__(self, exc_type: str, detail: str, *, where: str = "object") -> None:
        self.exc_type = exc_type
        self.detail = detail
        lines = ["Traceback (most recent call last):"]
        lines += _RPC_FRAMES + _SERVICE_FRAMES.get(where, ())
        lines.append(f"{exc_type}: {detail}" if detail else exc_type)
        super().__init__("\n".join(lines) + "\n")

    def to_legacy_fault(self) -> Fault:
        return _string_fault(self.detail, self.message)
