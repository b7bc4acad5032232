"""The ops credential: admin may change, reader may look, public_read opens reads, API callers get nothing."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from facade.problems import Problem
from facade.security.ops import OPS_GUARD, OpsGuard, require_ops
from facade.settings import Ops, Secret

ADMIN = "admin-token-0123456789"
READER = "reader-token-0123456789"


def request(guard: OpsGuard | None, token: str | None = None) -> web.Request:
    app = web.Application()
    if guard is not None:
        app[OPS_GUARD] = guard
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return make_mocked_request("GET", "/ops/breakers", headers=headers, app=app)


def guard(**kwargs: object) -> OpsGuard:
    return OpsGuard(Ops(**kwargs))  # type: ignore[arg-type]


async def outcome(req: web.Request, write: bool) -> str | int:
    try:
        return await require_ops(req, write)
    except Problem as problem:
        return problem.status


FULL = {"admin_token": Secret(ADMIN), "read_token": Secret(READER)}


@pytest.mark.parametrize(
    ("config", "token", "write", "expected"),
    [
        (FULL, ADMIN, True, "admin"),
        (FULL, ADMIN, False, "admin"),
        (FULL, READER, False, "reader"),
        (FULL, READER, True, 403),
        (FULL, None, False, 401),
        (FULL, "wrong-token-0000000000", False, 401),
        ({**FULL, "public_read": True}, None, False, "public"),
        ({**FULL, "public_read": True}, None, True, 401),
        ({"public_read": True}, None, True, 403),
        ({}, None, False, 401),
    ],
)
async def test_the_ops_credential_matrix(
    config: dict[str, object], token: str | None, write: bool, expected: str | int
) -> None:
    """Each combination of configured tokens, offered token and read/write gets its answer."""
    assert await outcome(request(guard(**config), token), write) == expected


async def test_without_a_guard_nothing_is_allowed() -> None:
    """An app that never installed the guard refuses rather than guessing."""
    assert await outcome(request(None, ADMIN), False) == 503


def test_weak_or_shared_tokens_are_configuration_errors() -> None:
    """Ops tokens shorter than 16 characters, or a reader token equal to the admin one, are refused."""
    with pytest.raises(ValueError, match="at least 16"):
        Ops(admin_token=Secret("short"))
    with pytest.raises(ValueError, match="differ"):
        Ops(admin_token=Secret(ADMIN), read_token=Secret(ADMIN))
