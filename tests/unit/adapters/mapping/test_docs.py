"""docs/mapping.md documents every root, form and built-in converter the code knows."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.mapping import REQUEST_ROOTS, RESPONSE_ROOTS
from adapters.mapping.converters import BUILTIN_CONVERTERS
from adapters.mapping.template import _FORMS


def table_names(text: str, heading: str) -> set[str]:
    """The backticked names in the first column of the table under ``heading``."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(name.rstrip(".") for name in re.findall(r"`([^`]+)`", first))
    return names


def test_every_root_form_and_converter_is_documented(repo_root: Path) -> None:
    """A root, form or converter added to the code without a line in docs/mapping.md fails here."""
    text = (repo_root / "docs" / "mapping.md").read_text()
    roots = REQUEST_ROOTS | RESPONSE_ROOTS | {"page", "etag"}  # the last two: facade.routes.compile
    assert table_names(text, "References and literals") == roots
    assert table_names(text, "Forms") == set(_FORMS)
    assert table_names(text, "Converters") == set(BUILTIN_CONVERTERS)
