"""The documents an adapter was started from, and whether they changed since.

A SOAP adapter is built from a WSDL and the schemas it imports; when an operator edits one of
them and reloads, the backend's settings may be identical while what it can call is not. The
adapter remembers a digest of every document it read while starting (local files by path, a
WSDL served by the backend by URL), and a reload asks whether any of them now reads differently
before taking the adapter over. A URL that cannot be fetched at reload time counts as
unchanged: the adapter keeps the description it has rather than fail the reload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["DescribedByFiles", "SourceFiles"]


#: Fetches a document by URL again (blocking, bounded); raises when it cannot.
Fetch = Callable[[str], bytes]


@dataclass(frozen=True, slots=True)
class SourceFiles:
    """Documents read at start, with the SHA-256 of the bytes that were read.

    ``digests`` holds local files by path; ``remote`` documents fetched by URL, which
    ``fetch`` (given with them) fetches again.
    """

    digests: Mapping[str, str] = field(default_factory=dict)
    remote: Mapping[str, str] = field(default_factory=dict)
    fetch: Fetch | None = field(default=None, compare=False)

    @staticmethod
    def digest(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def __or__(self, other: SourceFiles) -> SourceFiles:
        return SourceFiles(
            {**self.digests, **other.digests},
            {**self.remote, **other.remote},
            self.fetch or other.fetch,
        )

    def changed(self) -> list[str]:
        """The documents that no longer hold what was read, sorted. Blocks: reads and fetches them.

        A local file that is gone has changed; a URL that cannot be fetched now has not.
        """
        changed = []
        for path, digest in self.digests.items():
            try:
                now = self.digest(Path(path).read_bytes())
            except OSError:
                now = None
            if now != digest:
                changed.append(path)
        for url, digest in self.remote.items():
            if self.fetch is None:
                continue
            try:
                now = self.digest(self.fetch(url))
            except Exception:  # unreachable, refused, too large: keep what was loaded
                continue
            if now != digest:
                changed.append(url)
        return sorted(changed)


@runtime_checkable
class DescribedByFiles(Protocol):
    """An adapter whose description (what it can call, and how) came from documents it read."""

    def sources(self) -> SourceFiles:
        """The documents read by :meth:`start` (files and URLs); empty before it."""
