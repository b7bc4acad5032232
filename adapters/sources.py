"""The local files an adapter was started from, and whether they changed on disk since.

A SOAP adapter is built from a WSDL and the schemas it imports; when an operator edits one of
them and reloads, the backend's settings may be identical while what it can call is not. The
adapter remembers a digest of every local file it read while starting, and a reload asks
whether any of them now reads differently before taking the adapter over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["DescribedByFiles", "SourceFiles"]


@dataclass(frozen=True, slots=True)
class SourceFiles:
    """Files read at start, by path, with the SHA-256 of the bytes that were read."""

    digests: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def digest(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def __or__(self, other: SourceFiles) -> SourceFiles:
        return SourceFiles({**self.digests, **other.digests})

    def changed(self) -> list[str]:
        """The files that no longer hold what was read (or are gone), sorted. Blocks: reads them."""
        changed = []
        for path, digest in self.digests.items():
            try:
                now = self.digest(Path(path).read_bytes())
            except OSError:
                now = None
            if now != digest:
                changed.append(path)
        return sorted(changed)


@runtime_checkable
class DescribedByFiles(Protocol):
    """An adapter whose description (what it can call, and how) came from local files."""

    def sources(self) -> SourceFiles:
        """The local files read by :meth:`start`; empty before it, or for a description by URL."""
