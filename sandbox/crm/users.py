"""Who may log in to the CRM sandbox, and with which secrets.

Odoo accepts a user's password or any of their API keys wherever a password goes (API keys are
what integrations are told to use). ``uid`` 2 is Odoo's administrator, as in every database.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ADMIN_API_KEY", "DEFAULT_USERS", "CrmUser", "Directory"]

ADMIN_API_KEY = "sandbox-api-key-0001"


@dataclass(frozen=True, slots=True)
class CrmUser:
    """A user who can authenticate; ``secrets`` are the password and any API keys."""

    uid: int
    login: str
    name: str
    secrets: tuple[str, ...]
    can_write: bool = True  # False: reads only, every create/write/unlink is fault 4


DEFAULT_USERS = (
    CrmUser(2, "admin", "Mitchell Admin", ("admin", ADMIN_API_KEY)),
    CrmUser(6, "demo", "Marc Demo", ("demo",), can_write=False),
)


class Directory:
    """The users, found by login (to authenticate) or by uid (to check each call)."""

    def __init__(self, users: Iterable[CrmUser]) -> None:
        self.users = tuple(users)
        self._by_uid = {user.uid: user for user in self.users}
        self._by_login = {user.login: user for user in self.users}
        if len(self._by_uid) != len(self.users) or len(self._by_login) != len(self.users):
            raise ValueError("CRM sandbox users need distinct uids and logins")

    def authenticate(self, login: object, password: object) -> CrmUser | None:
        user = self._by_login.get(login) if isinstance(login, str) else None
        return user if user is not None and _knows(user, password) else None

    def check(self, uid: int, password: object) -> CrmUser | None:
        user = self._by_uid.get(uid)
        return user if user is not None and _knows(user, password) else None


def _knows(user: CrmUser, password: object) -> bool:
    if not isinstance(password, str) or not password:
        return False
    given = password.encode()
    return any(hmac.compare_digest(given, secret.encode()) for secret in user.secrets)
