"""What a client is promised while a backend fails, as checks over the answers it got.

Each check names the rule it enforces (docs/api.md, docs/errors.md, DESIGN.md "Semantics that
matter") and, when it fails, shows the offending answers rather than a bare ``False``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from tests.chaos.load import Reply

__all__ = [
    "PROBLEM_CODES",
    "assert_problems",
    "assert_stale",
    "assert_within",
    "describe",
]

#: The stable ``code`` a problem of each status carries when a backend fails (docs/errors.md).
PROBLEM_CODES = {502: "bad_gateway", 503: "backend_unavailable", 504: "backend_timeout"}


def describe(replies: Iterable[Reply], limit: int = 5) -> str:
    shown = list(replies)
    return "\n  ".join(str(r) for r in shown[:limit]) + (
        f"\n  ... and {len(shown) - limit} more" if len(shown) > limit else ""
    )


def assert_within(replies: Collection[Reply], bound_s: float, what: str) -> None:
    """No answer may take longer than the route's deadline, whatever the backend does."""
    late = [r for r in replies if r.elapsed_s > bound_s]
    assert not late, (
        f"{len(late)} of {len(replies)} {what} took over {bound_s}s:\n  {describe(late)}"
    )


def assert_stale(replies: Collection[Reply], warmed: Reply, ttl_s: float) -> None:
    """A warmed read past its ttl is the last good answer, marked stale three ways.

    ``Age`` at least the ttl, ``Veneer-Stale: true`` (the header apps test) and an RFC 9211
    ``Cache-Status`` saying why: served because the backend failed (``fwd=stale``) or while a
    refresh runs (``stale-while-revalidate``).
    """
    assert replies, "no cached reads were made"
    wrong = [
        r
        for r in replies
        if r.status != 200
        or r.body != warmed.body
        or r.headers.get("Veneer-Stale") != "true"
        or int(r.headers.get("Age", "-1")) < int(ttl_s)
        or not (
            "fwd=stale" in r.headers.get("Cache-Status", "")
            or 'detail="stale-while-revalidate"' in r.headers.get("Cache-Status", "")
        )
    ]
    assert not wrong, (
        f"{len(wrong)} of {len(replies)} cached reads not served stale:\n  {describe(wrong)}"
    )


def assert_problems(replies: Collection[Reply], statuses: Collection[int]) -> None:
    """A read the backend cannot serve is an RFC 9457 problem with the status's stable code,
    and a 503 says when to come back (``Retry-After``, whole seconds, at least 1)."""
    assert replies, "no uncached reads were made"
    wrong = [r for r in replies if not _is_failure_problem(r, statuses)]
    assert not wrong, (
        f"{len(wrong)} of {len(replies)} uncached reads were not a {sorted(statuses)} problem"
        f" (with Retry-After on 503):\n  {describe(wrong)}"
    )


def _is_failure_problem(reply: Reply, statuses: Collection[int]) -> bool:
    if reply.status not in statuses or not reply.is_problem:
        return False
    body = reply.json()
    if body.get("code") != PROBLEM_CODES.get(reply.status) or body.get("status") != reply.status:
        return False
    if reply.status == 503:
        retry_after = reply.headers.get("Retry-After", "")
        return retry_after.isdigit() and int(retry_after) >= 1
    return True
