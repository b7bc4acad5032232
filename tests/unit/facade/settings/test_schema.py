"""The JSON Schema for editors agrees with the loader about what a valid file is."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from facade.settings import settings_json_schema
from facade.settings.source import read_source


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = settings_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_valid_json_schema(validator: jsonschema.Draft202012Validator) -> None:
    """The generated document is itself a valid draft 2020-12 schema with every section described."""
    schema = settings_json_schema()
    assert set(schema["properties"]) == {
        "version",
        "listen",
        "store",
        "logging",
        "backends",
        "api",
        "cors",
        "auth",
        "rate_limit",
        "ops",
        "routes",
    }
    assert "description" in schema["$defs"]["BreakerConfig"]["properties"]["open_for"]


def test_default_config_validates(
    validator: jsonschema.Draft202012Validator, repo_root: Path
) -> None:
    """The embedded default config passes the schema, ${VAR} references and durations included."""
    data = read_source(
        repo_root / "config" / "gateway.yaml", substitute=False
    ).data  # YAML 1.2, unexpanded
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"listen": {"prot": 1}}, "Additional properties"),
        ({"listen": {"port": "eighty"}}, "is not valid"),
        ({"backends": {"erp": {"endpoint": "http://x/"}}}, "'kind' is a required property"),
        ({"logging": {"level": "loud"}}, "is not one of"),
        (
            {
                "backends": {
                    "erp": {
                        "kind": "soap",
                        "endpoint": "http://x",
                        "credentials": {"password": "pw"},
                    }
                }
            },
            "does not match",
        ),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, document: dict[str, object], complaint: str
) -> None:
    """Misspelt keys, wrong types, missing fields, bad enums and literal secrets fail in the editor too."""
    messages = [error.message for error in validator.iter_errors(document)]
    assert messages, "the schema accepted an invalid document"
    assert any(complaint in m for m in messages) or any(
        complaint in sub.message for e in validator.iter_errors(document) for sub in e.context
    )
