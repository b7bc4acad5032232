"""docs/configuration.md is generated from the settings classes and must match them."""

from __future__ import annotations

from pathlib import Path

from facade.settings.reference import builtin_adapter_sections, render_reference


def test_committed_reference_matches_the_code(repo_root: Path) -> None:
    """The committed configuration reference equals a fresh rendering (regenerate it if this fails)."""
    fresh = render_reference(builtin_adapter_sections())
    committed = (repo_root / "docs" / "configuration.md").read_text()
    assert committed == fresh, (
        "run: .venv/bin/python -m facade.settings.reference > docs/configuration.md"
    )


def test_reference_documents_every_section_and_adapter_kind() -> None:
    """Every top-level section and every built-in adapter kind's options have a table."""
    text = render_reference(builtin_adapter_sections())
    for heading in (
        "## listen",
        "## backends.<name>.breaker",
        "## routes.<name>",
        "(kind: soap)",
        "(kind: odoo)",
        "(kind: fishbowl)",
        "(kind: framed-tcp)",
    ):
        assert heading in text
