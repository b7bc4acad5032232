"""The two ways a request is turned away: not authenticated (401) and not allowed (403).

RFC 9110 §15.5.2 / RFC 6750 §3: a 401 carries ``WWW-Authenticate`` (with ``error="invalid_token"``
when a token was sent and refused), a 403 for a bearer caller names the scope it lacked. The
detail says what was wrong with the credential, never whether the resource exists: both are
decided before the route runs.
"""

from __future__ import annotations

import re

from facade.problems import Problem

__all__ = ["REALM", "Unauthenticated", "forbidden", "unauthenticated"]

REALM = "veneer"
_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:;()_/-]")


class Unauthenticated(Exception):
    """A credential was missing or did not verify; ``reason`` is safe to show the client."""

    def __init__(self, reason: str, *, token_presented: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_presented = token_presented


def unauthenticated(error: Unauthenticated | None) -> Problem:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None and error.token_presented:
        description = _UNSAFE.sub("", error.reason)  # a quoted-string: no quotes, no controls
        challenge += f', error="invalid_token", error_description="{description}"'
    detail = (
        f"The credential was refused: {error.reason}."
        if error is not None
        else "This route needs a credential: a bearer token (Authorization) or an API key."
    )
    return Problem(
        401,
        "unauthenticated",
        "Unauthenticated",
        detail,
        headers={"WWW-Authenticate": challenge},
    )


def forbidden(missing: list[str]) -> Problem:
    scope = " ".join(missing)
    return Problem(
        403,
        "forbidden",
        "Forbidden",
        f"The caller lacks the scope(s) this route needs: {scope}.",
        extra={"missing_scopes": missing},
        headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
        },
    )
