"""Odoo's three RPC services: ``common`` (no login), ``object`` (the models) and ``db``.

Each call is dispatched the way Odoo 17 dispatches it: ``object`` calls carry the database, uid
and password every time (there is no session) and are checked in Odoo's order: the database
exists, the credentials are right, the method is public, the model exists, the method exists,
the arguments bind, the user may do it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sandbox.crm.errors import AccessDenied, AccessError, ApplicationError
from sandbox.crm.methods import ModelMethods
from sandbox.crm.registry import Registry
from sandbox.crm.users import CrmUser, Directory

__all__ = ["VERSION_INFO", "Services"]

VERSION_INFO: dict[str, Any] = {
    "server_version": "17.0",
    "server_version_info": [17, 0, 0, "final", 0, ""],
    "server_serie": "17.0",
    "protocol_version": 1,
}


class Services:
    """The RPC services of one Odoo server with one database."""

    def __init__(
        self, database: str, registry: Registry, directory: Directory, *, deny_with_fault: bool
    ) -> None:
        self.database = database
        self._registry = registry
        self._directory = directory
        self._deny_with_fault = deny_with_fault

    def dispatch(self, service: str, method: str, params: tuple[Any, ...]) -> Any:
        """The result of one call, or an :class:`~sandbox.crm.errors.OdooError`."""
        if service == "common":
            handlers: dict[str, Callable[..., Any]] = {
                "version": self.version,
                "authenticate": self.authenticate,
                "login": self.login,
            }
            return _call(handlers, method, params, where="common")
        if service == "db":
            handlers = {"list": self.list_databases, "server_version": lambda: "17.0"}
            handlers["db_exist"] = lambda db_name: db_name == self.database
            return _call(handlers, method, params, where="rpc")
        if service == "object":
            return self._object(method, params)
        raise ApplicationError("KeyError", repr(service), where="rpc")

    # -- common ----------------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return VERSION_INFO

    def authenticate(self, db: Any, login: Any, password: Any, user_agent_env: Any) -> int | bool:
        """The uid; bad credentials are ``False`` (Odoo <= 17) or fault 3 (newer), as configured."""
        self._check_database(db, where="common")
        user = self._directory.authenticate(login, password)
        if user is None and self._deny_with_fault:
            raise AccessDenied()
        return user.uid if user else False

    def login(self, db: Any, login: Any, password: Any) -> int | bool:
        """The older form of :meth:`authenticate`: always ``False`` for bad credentials."""
        self._check_database(db, where="common")
        user = self._directory.authenticate(login, password)
        return user.uid if user else False

    def list_databases(self) -> list[str]:
        return [self.database]

    # -- object ----------------------------------------------------------------------------------

    def _object(self, method: str, params: tuple[Any, ...]) -> Any:
        if len(params) < 3:
            raise ApplicationError("IndexError", "tuple index out of range")
        db, raw_uid, password = params[:3]
        try:
            uid = int(raw_uid)
        except (TypeError, ValueError) as exc:
            raise ApplicationError(type(exc).__name__, str(exc)) from None
        self._check_database(db, where="object")
        user = self._directory.check(uid, password)
        if user is None:
            raise AccessDenied()
        if method == "execute_kw":
            obj, name, args, kwargs = _invoke(_execute_kw, "execute_kw", params[3:], {})
            if not isinstance(args, list) or not isinstance(kwargs or {}, dict):
                raise ApplicationError(
                    "TypeError", "execute_kw() takes args as a list, kw as a dict"
                )
        elif method == "execute":
            obj, name, args, kwargs = _invoke(_execute, "execute", params[3:], {})
        else:
            raise ApplicationError("NameError", f"Method not available {method}")
        return self._execute(user, obj, name, list(args), dict(kwargs or {}))

    def _execute(
        self, user: CrmUser, obj: Any, method: Any, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        if not isinstance(method, str) or method.startswith("_") or method == "init":
            raise AccessError(f"Private methods (such as {method}) cannot be called remotely.")
        model = self._registry.for_rpc(obj)
        context = kwargs.pop("context", None) or {}
        if not isinstance(context, dict):
            raise ApplicationError("TypeError", f"context must be a dict, got {context!r}")
        function = ModelMethods(model, user, context).method(method)
        return _invoke(function, f"{model.name}.{method}", args, kwargs)

    def _check_database(self, db: Any, *, where: str) -> None:
        if db != self.database:
            raise ApplicationError(
                "psycopg2.OperationalError",
                'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{db}" does not exist\n',
                where=where,
            )


def _call(
    handlers: dict[str, Callable[..., Any]], method: str, params: tuple[Any, ...], *, where: str
) -> Any:
    handler = handlers.get(method)
    if handler is None:
        raise ApplicationError("KeyError", repr(f"exp_{method}"), where=where)
    return _invoke(handler, f"exp_{method}", params, {}, where=where)


def _execute_kw(obj: Any, method: Any, args: Any, kw: Any = None) -> tuple[Any, Any, Any, Any]:
    """The parameters of Odoo's ``execute_kw`` after db, uid and password."""
    return obj, method, args, kw


def _execute(obj: Any, method: Any, *args: Any) -> tuple[Any, Any, Any, Any]:
    """The parameters of Odoo's ``execute`` after db, uid and password."""
    return obj, method, args, {}


def _invoke(
    function: Callable[..., Any],
    name: str,
    args: tuple[Any, ...] | list[Any],
    kwargs: dict[str, Any],
    *,
    where: str = "object",
) -> Any:
    """Call ``function``; arguments that do not bind are the TypeError Python raises (fault 1)."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except TypeError as exc:
        raise ApplicationError("TypeError", f"{name}() {exc}", where=where) from None
    return function(*bound.args, **bound.kwargs)
