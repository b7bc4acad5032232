"""Configuration problems, each naming the file, the position, the dotted path and what was wanted."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "ConfigIssue", "Path_", "did_you_mean", "dotted"]

Path_ = tuple[str | int, ...]
_NO_VALUE = object()


def dotted(path: Path_) -> str:
    """``("routes", "GET /x", "cache", "ttl")`` → ``routes."GET /x".cache.ttl``."""
    parts: list[str] = []
    for part in path:
        text = str(part)
        parts.append(f'"{text}"' if any(c in text for c in ' ./{}"') else text)
    return ".".join(parts) or "(top level)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong with a configuration."""

    path: Path_
    message: str
    value: Any = _NO_VALUE
    expected: str | None = None
    position: tuple[int, int] | None = None

    def render(self, file: Path | str | None = None) -> str:
        where = str(file) if file else "<config>"
        if self.position:
            where += f":{self.position[0]}:{self.position[1]}"
        text = f"{where}: {dotted(self.path)}: {self.message}"
        if self.value is not _NO_VALUE:
            text += f"; got {_show(self.value)}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ConfigError(Exception):
    """A configuration that must not be started; carries every issue found, not just the first."""

    def __init__(self, file: Path | str | None, issues: Sequence[ConfigIssue]) -> None:
        self.file = file
        self.issues = tuple(issues)
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.issues)
        head = f"{self.file or '<config>'}: {count} configuration error{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  {issue.render(self.file)}" for issue in self.issues)])
