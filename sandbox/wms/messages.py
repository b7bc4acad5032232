"""Route the messages of one Fbi envelope to their handlers and assemble the reply.

Every ``<Name>Rq`` gets a ``<Name>Rs`` carrying its own ``statusCode``; the envelope carries the
first non-success code of its messages (1000 when all succeeded), so a client that checks only
the envelope still sees a failure. ``LoginRq`` is the one message that needs no ticket; every
other message is checked against the session table first (1130/1131/1163/1164).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from sandbox.wms.envelope import Dialect, FbiReply, FbiRequest
from sandbox.wms.handlers import HANDLERS, text
from sandbox.wms.sessions import Session, SessionTable
from sandbox.wms.status import FbiError, Status, status_message
from sandbox.wms.store import WmsStore

__all__ = ["Dispatcher"]

Params = dict[str, Any]

SERVER_VERSION = "2018.10"
_MODULES = ("Inventory", "Part", "Picking", "Shipping", "Sales Order", "Receiving")


class Dispatcher:
    """Answers parsed requests against one store and one session table."""

    def __init__(self, store: WmsStore, sessions: SessionTable, users: Mapping[str, str]) -> None:
        self.store = store
        self.sessions = sessions
        # user name → (user id, accepted password forms): clear text, and the base64 MD5 digest
        # that fishbowl-js and the Fishbowl SDK send.
        self._users = {
            name: (user_id, (password, _md5_base64(password)))
            for user_id, (name, password) in enumerate(users.items(), start=1)
        }

    def handle(self, request: FbiRequest) -> FbiReply:
        reply = FbiReply(request.dialect, {"Key": request.ticket_key})
        session: Session | None = None
        for name, params in request.messages:
            body: Params
            try:
                if name == "LoginRq":
                    session = self._login(params)
                    body = self._login_body(session)
                else:
                    handler = HANDLERS.get(name)
                    if handler is None and name != "LogoutRq":
                        raise FbiError(Status.UNKNOWN_MESSAGE, name)
                    if session is None:
                        session = self.sessions.resolve(request.ticket_key)
                    if handler is None:  # LogoutRq
                        self.sessions.close(session.key)
                        session, body = None, {}
                        reply.ticket = {"Key": ""}
                    else:
                        body = handler(self.store, params)
                status = Status.SUCCESS
            except FbiError as exc:
                status, body = exc.status, {"statusMessage": exc.message}
            reply.messages.append((_reply_name(name), {"statusCode": int(status), **body}))
            if status is not Status.SUCCESS and reply.status is Status.SUCCESS:
                reply.status, reply.status_text = status, body["statusMessage"]
        if session is not None:
            reply.ticket = {"Key": session.key, "UserID": session.user_id}
        return reply

    def shut_down(self, request: FbiRequest) -> FbiReply:
        """The transient 1009 every message gets while the server is (said to be) going down."""
        return self.fail(request.dialect, Status.SERVER_SHUT_DOWN, request)

    def fail(
        self,
        dialect: Dialect,
        status: Status,
        request: FbiRequest | None = None,
        detail: str | None = None,
    ) -> FbiReply:
        """A reply whose envelope and every message carry ``status``."""
        status_text = status_message(status, detail)
        message = {"statusCode": int(status), "statusMessage": status_text}
        names = [_reply_name(name) for name, _ in request.messages] if request else []
        key = request.ticket_key if request else ""
        return FbiReply(
            dialect, {"Key": key}, status, status_text, [(n, dict(message)) for n in names]
        )

    def _login(self, params: Params) -> Session:
        text(params, "IAID")  # required by the schema; every application counts as approved
        user_name = text(params, "UserName")
        password = text(params, "UserPassword")
        user = self._users.get(user_name)
        if user is None or not any(
            hmac.compare_digest(password.encode(), accepted.encode()) for accepted in user[1]
        ):
            raise FbiError(Status.INVALID_LOGIN)
        return self.sessions.open(user[0], user_name)

    @staticmethod
    def _login_body(session: Session) -> Params:
        return {
            "UserFullName": session.user_name,
            "ModuleAccess": {"Module": list(_MODULES)},
            "ServerVersion": SERVER_VERSION,
        }


def _reply_name(request_name: str) -> str:
    return (request_name[:-2] if request_name.endswith("Rq") else request_name) + "Rs"


def _md5_base64(password: str) -> str:
    return base64.b64encode(hashlib.md5(password.encode()).digest()).decode()
