"""Who is calling: the principal an authenticated request carries, and what it may do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ANONYMOUS", "Principal"]

PrincipalKind = Literal["jwt", "api_key", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller, as established by a verified credential.

    ``id`` (kind and subject) is what partitions caches, idempotency keys, rate limits and queued
    writes between callers: a JWT subject and an API key client with the same name stay apart.
    """

    subject: str
    kind: PrincipalKind
    scopes: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.subject}"

    def template_view(self) -> dict[str, Any]:
        """What request templates read under ``auth.``: the subject, the credential's kind and
        the granted scopes (sorted), never the credential itself."""
        return {"subject": self.subject, "kind": self.kind, "scopes": sorted(self.scopes)}

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    def allows(self, required: Iterable[str]) -> bool:
        """Whether the principal holds every scope in ``required``."""
        return all(scope in self.scopes for scope in required)

    def missing(self, required: Iterable[str]) -> list[str]:
        return [scope for scope in required if scope not in self.scopes]


ANONYMOUS = Principal("anonymous", "anonymous")
