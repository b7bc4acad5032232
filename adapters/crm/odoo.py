"""The Odoo adapter: the external API over XML-RPC (``/xmlrpc/2/common`` and ``/xmlrpc/2/object``).

Starting it contacts nothing (the gateway must boot while the CRM is down). The first call logs
in with ``authenticate(db, login, api_key or password, {})`` and keeps the uid (see
:mod:`adapters.crm.login`); every call is then one ``execute_kw``. When Odoo answers fault 3 to
an ``execute_kw``, the uid or the secret is no longer good: the adapter logs in again once and
resends; a second refusal is :class:`~adapters.errors.AccessDenied`. Wrong credentials are
refused both ways Odoo does it: ``False`` (Odoo 17 and older) and fault 3 (newer).

Results are Odoo's values as they come (``False`` for empty, ``[id, "name"]`` for many2one);
the response mappings' converters deal with those.
"""

from __future__ import annotations

import asyncio
import xmlrpc.client
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from adapters.base import AdapterContext, Health, Operation
from adapters.crm.client import Deadline, XmlRpcClient
from adapters.crm.codec import DEFAULT_MAX_DEPTH
from adapters.crm.faults import is_access_denied, odoo_fault, translated_errors
from adapters.crm.login import Login, Session
from adapters.crm.orm import METHODS, execute_kw_arguments, split_operation
from adapters.errors import AccessDenied, AdapterError
from adapters.http import AiohttpTransport, HttpTransport

__all__ = ["OdooAdapter", "OdooOptions"]

_MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class OdooOptions:
    """The ``options:`` of a ``kind: odoo`` backend."""

    database: str = field(metadata={"help": "the Odoo database to log in to, e.g. 'production'"})
    models: tuple[str, ...] = field(
        default=("res.partner", "crm.lead"),
        metadata={
            "help": "models whose standard methods routes may call (empty: any <model>.<method>)"
        },
    )
    extra_operations: tuple[str, ...] = field(
        default=(),
        metadata={"help": "further <model>.<method> operations routes may call (as writes)"},
    )
    max_reply_bytes: int = field(
        default=16 * _MiB, metadata={"help": "largest reply accepted, in bytes", "ge": 1024}
    )
    max_depth: int = field(
        default=DEFAULT_MAX_DEPTH,
        metadata={"help": "deepest XML element nesting accepted in a reply", "ge": 8, "le": 1024},
    )
    allow_none: bool = field(
        default=False,
        metadata={"help": "send None as <nil/> (else as False, Odoo's empty value)"},
    )

    def __post_init__(self) -> None:
        if not self.database:
            raise ValueError("database must not be empty")
        for operation in self.extra_operations:
            model, _, method = operation.rpartition(".")
            if not model or not method:
                raise ValueError(f"extra_operations: {operation!r} is not <model>.<method>")


class OdooAdapter:
    """Odoo's models as operations ``<model>.<method>``; see :mod:`adapters.crm.orm` for params."""

    kind: ClassVar[str] = "odoo"
    Options: ClassVar[type] = OdooOptions

    def __init__(
        self,
        context: AdapterContext,
        options: OdooOptions,
        *,
        transport: HttpTransport | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self._transport = transport or AiohttpTransport.for_backend(
            context, max_reply_bytes=options.max_reply_bytes
        )
        self._rpc = XmlRpcClient(
            self._transport,
            backend=context.backend,
            max_reply_bytes=options.max_reply_bytes,
            max_depth=options.max_depth,
            allow_none=options.allow_none,
            none_as_false=not options.allow_none,
        )
        base = context.endpoint.rstrip("/")
        self._common = f"{base}/xmlrpc/2/common"
        self._object = f"{base}/xmlrpc/2/object"
        self._secret = context.api_key or context.password
        self._login = Login(self._authenticate)

    async def start(self) -> None:
        """Check the credentials are configured; the login itself waits for the first call."""
        if not self.context.username or not self._secret:
            raise ValueError(
                "an odoo backend needs credentials: username, and api_key (or password)"
            )

    def operations(self) -> Mapping[str, Operation] | None:
        if not self.options.models:
            return None
        found = {
            f"{model}.{name}": Operation(
                f"{model}.{name}", params=method.params, read_only=method.read_only
            )
            for model in self.options.models
            for name, method in METHODS.items()
        }
        for name in self.options.extra_operations:
            found.setdefault(name, Operation(name, params=("args", "kwargs")))
        return found

    async def call(
        self, operation: str, params: Mapping[str, Any], *, timeout: float | None = None
    ) -> Any:
        deadline = Deadline.after(timeout)
        with self._translated(operation):
            model, method = split_operation(operation)
            args, kwargs = execute_kw_arguments(method, params)
            session = await self._login.session(deadline.remaining())
            try:
                return await self._execute_kw(session, model, method, args, kwargs, deadline)
            except xmlrpc.client.Fault as fault:
                if not is_access_denied(fault):
                    raise
                self._login.invalidate(session)  # rotated secret or stale uid: log in once more
            session = await self._login.session(deadline.remaining())
            return await self._execute_kw(session, model, method, args, kwargs, deadline)

    async def health(self) -> Health:
        """``version()`` on ``common``: answers without a login, so it probes the server alone."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            with self._translated("version"):
                info = await self._rpc.call(self._common, "version", [])
        except AdapterError as exc:
            return Health(False, str(exc), loop.time() - started)
        version = info.get("server_version", "?") if isinstance(info, dict) else "?"
        return Health(True, f"Odoo {version}", loop.time() - started)

    async def close(self) -> None:
        await self._login.close()
        await self._transport.close()

    async def _execute_kw(
        self,
        session: Session,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any],
        deadline: Deadline,
    ) -> Any:
        params = [self.options.database, session.uid, self._secret, model, method, args, kwargs]
        return await self._rpc.call(
            self._object, "execute_kw", params, timeout=deadline.remaining()
        )

    async def _authenticate(self) -> int:
        """The uid for the configured login; ``False`` and fault 3 both mean bad credentials."""
        if not self.context.username or not self._secret:
            raise AccessDenied("no credentials configured (username and api_key or password)")
        params = [self.options.database, self.context.username, self._secret, {}]
        uid = await self._rpc.call(self._common, "authenticate", params)
        if isinstance(uid, bool) or not isinstance(uid, int):
            raise AccessDenied("authenticate refused the login and password/API key", code=3)
        return uid

    def _translated(self, operation: str) -> AbstractContextManager[None]:
        return translated_errors(
            backend=self.context.backend,
            operation=operation,
            faults=odoo_fault,
            secrets=(self.context.password, self.context.api_key),
        )
