"""Loading configuration files: every kind of mistake is reported clearly, all at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from facade.settings import ConfigError, Secret, Settings, load_settings

MINIMAL = """
backends:
  erp:
    kind: soap
    endpoint: http://127.0.0.1:8081/WS
routes:
  GET /api/v1/orders/{no}:
    backend: erp
    operation: SalesOrder.Read
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    return load_settings(write(tmp_path, text), environ=env or {})


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return [issue.render(caught.value.file) for issue in caught.value.issues]


def test_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    """A file naming only a backend and a route gets documented defaults for everything else."""
    settings = load(tmp_path, MINIMAL)
    assert settings.listen.port == 8080
    assert settings.backends["erp"].timeouts.read == 10.0
    assert settings.backends["erp"].breaker.open_for == 30.0
    assert settings.routes["GET /api/v1/orders/{no}"].operation == "SalesOrder.Read"


def test_settings_are_frozen(tmp_path: Path) -> None:
    """Loaded settings cannot be changed by accident at run time."""
    settings = load(tmp_path, MINIMAL)
    with pytest.raises(AttributeError):
        settings.listen.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.backends["new"] = settings.backends["erp"]  # type: ignore[index]


def test_wrong_type_names_file_line_path_value_and_expectation(tmp_path: Path) -> None:
    """A value of the wrong type is reported with file:line:col, dotted path, the value and what was wanted."""
    found = problems(tmp_path, MINIMAL + "listen:\n  port: eighty\n")
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'gateway.yaml'}:11:9: listen.port: wrong type")
    assert "got 'eighty'" in found[0]
    assert "expected an integer" in found[0]


def test_unknown_key_suggests_the_closest_known_one(tmp_path: Path) -> None:
    """A misspelt key is rejected with a 'did you mean' and the list of allowed keys."""
    text = MINIMAL.replace("    kind: soap", "    kind: soap\n    timeout: {read: 2}")
    (found,) = problems(tmp_path, text)
    assert "backends.erp.timeout: unknown key (did you mean 'timeouts'?)" in found
    assert "expected one of:" in found and "breaker" in found


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    """Leaving out a required field names it and says what belongs there."""
    (found,) = problems(tmp_path, MINIMAL.replace("    operation: SalesOrder.Read\n", ""))
    assert 'routes."GET /api/v1/orders/{no}".operation: missing required field' in found
    assert "SalesOrder.Read" in found  # the field's help shows an example


def test_route_to_an_unknown_backend_is_rejected(tmp_path: Path) -> None:
    """A route naming a backend that is not declared fails, suggesting the nearest name."""
    (found,) = problems(tmp_path, MINIMAL.replace("backend: erp", "backend: epr"))
    assert "backend: unknown backend (did you mean 'erp'?)" in found
    assert "got 'epr'" in found and "expected one of: erp" in found


def test_unknown_adapter_kind_suggests_a_builtin(tmp_path: Path) -> None:
    """An unknown adapter kind is answered with the nearest known kind."""
    (found,) = problems(tmp_path, MINIMAL.replace("kind: soap", "kind: sope"))
    assert "backends.erp.kind: unknown adapter kind (did you mean 'soap'?)" in found


def test_unset_env_var_without_default_is_an_error(tmp_path: Path) -> None:
    """${VAR} with VAR unset and no default is reported at its path, with how to fix it."""
    text = MINIMAL + "listen:\n  port: ${GATEWAY_PORT}\n"
    (found,) = problems(tmp_path, text)
    assert "listen.port: environment variable GATEWAY_PORT is not set and has no default" in found
    assert ":11:" in found  # the line of the reference


def test_env_references_are_substituted_and_coerced(tmp_path: Path) -> None:
    """${VAR} takes the environment's value (coerced to the field's type) and ${VAR:-x} falls back to x."""
    text = MINIMAL + "listen:\n  port: ${PORT}\n  host: ${HOST:-0.0.0.0}\n"
    settings = load(tmp_path, text, {"PORT": "9123"})
    assert settings.listen.port == 9123
    assert settings.listen.host == "0.0.0.0"


def test_secret_written_in_the_file_is_refused(tmp_path: Path) -> None:
    """A password written literally in the file is an error: secrets come from the environment."""
    text = MINIMAL.replace("    kind: soap", "    kind: soap\n    credentials: {password: hunter2}")
    (found,) = problems(tmp_path, text)
    assert "backends.erp.credentials.password: secrets never live in config files" in found
    assert "hunter2" not in found


def test_secret_from_env_never_prints_itself(tmp_path: Path) -> None:
    """A secret read from the environment reveals itself only on request, never in repr or str."""
    text = MINIMAL.replace(
        "    kind: soap", "    kind: soap\n    credentials: {username: u, password: '${ERP_PW}'}"
    )
    settings = load(tmp_path, text, {"ERP_PW": "hunter2"})
    password = settings.backends["erp"].credentials.password
    assert isinstance(password, Secret)
    assert password.reveal() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(password)


def test_durations_accept_units(tmp_path: Path) -> None:
    """Durations may be written as numbers of seconds or with ms/s/m/h units."""
    text = MINIMAL.replace(
        "    kind: soap",
        "    kind: soap\n    timeouts: {connect: 250ms, read: 2}\n    breaker: {open_for: 1m}",
    )
    backend = load(tmp_path, text).backends["erp"]
    assert backend.timeouts.connect == pytest.approx(0.25)
    assert backend.timeouts.read == 2.0
    assert backend.breaker.open_for == 60.0


def test_range_and_cross_field_rules(tmp_path: Path) -> None:
    """Out-of-range numbers and inconsistent pairs are reported with the bound or the rule."""
    text = MINIMAL.replace(
        "    kind: soap",
        "    kind: soap\n    breaker: {failure_rate: 1.5}\n    retry: {backoff: 2s, backoff_max: 1s}",
    )
    found = problems(tmp_path, text)
    assert any(
        "breaker.failure_rate: out of range; got 1.5; expected a value ≤ 1" in f for f in found
    )
    assert any(
        "retry: backoff_max (1.0) must not be smaller than backoff (2.0)" in f for f in found
    )


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    """A key written twice (which YAML would silently resolve to the last) is an error."""
    text = MINIMAL + "  GET /api/v1/orders/{no}:\n    backend: erp\n    operation: Other\n"
    found = problems(tmp_path, text)
    assert any('routes."GET /api/v1/orders/{no}": duplicate key' in f for f in found)


def test_route_key_and_method_rules(tmp_path: Path) -> None:
    """Route keys must be METHOD /api/vN/...; caches only on GET, outboxes only on writes."""
    text = MINIMAL + (
        "  FETCH /api/v1/x:\n    backend: erp\n    operation: X\n"
        "  GET /orders:\n    backend: erp\n    operation: X\n"
        "  POST /api/v1/orders:\n    backend: erp\n    operation: Create\n    cache: {ttl: 5}\n"
        "  GET /api/v1/items:\n    backend: erp\n    operation: Items\n    outbox: {}\n"
    )
    found = "\n".join(problems(tmp_path, text))
    assert "bad route key; got 'FETCH /api/v1/x'" in found
    assert "bad route path; got '/orders'" in found
    assert "only GET routes are cached" in found
    assert "only write routes can queue" in found


def test_endpoint_must_match_the_kind(tmp_path: Path) -> None:
    """A TCP adapter with an HTTP endpoint (or the reverse) is caught at load."""
    text = MINIMAL.replace("endpoint: http://127.0.0.1:8081/WS", "endpoint: tcp://127.0.0.1:8081")
    (found,) = problems(tmp_path, text)
    assert "a soap backend speaks HTTP" in found


def test_every_error_is_reported_in_one_run(tmp_path: Path) -> None:
    """Independent mistakes in different sections are all listed together, in file order."""
    text = MINIMAL.replace("kind: soap", "kind: sope").replace("backend: erp", "backend: nope")
    text += "listen:\n  port: -1\nlogging:\n  level: loud\n"
    found = problems(tmp_path, text)
    assert len(found) == 4
    lines = [int(f.split(":")[1]) for f in found]
    assert lines == sorted(lines)


def test_bad_yaml_and_missing_file_are_reported_not_raised_raw(tmp_path: Path) -> None:
    """Unparseable YAML and an unreadable file become ConfigErrors naming the file."""
    (found,) = problems(tmp_path, "backends: [unclosed\n")
    assert "not valid YAML" in found
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(tmp_path / "absent.yaml")


def test_a_file_that_is_not_utf8_is_reported_not_raised_raw(tmp_path: Path) -> None:
    """A Latin-1 byte in the file is a ConfigError naming its offset, not a UnicodeDecodeError."""
    path = tmp_path / "gateway.yaml"
    path.write_bytes(b"api: {title: caf\xe9}\n")
    with pytest.raises(ConfigError, match="cannot decode byte 16; expected UTF-8 text"):
        load_settings(path)


def test_settings_carry_the_digest_of_the_bytes_they_were_read_from(tmp_path: Path) -> None:
    """Equal bytes give equal digests and any edit a new one: how workers tell versions apart."""
    first = load(tmp_path, MINIMAL).source_digest
    again = load(tmp_path, MINIMAL).source_digest
    edited = load(tmp_path, MINIMAL + "# a comment changes nothing but the bytes\n").source_digest
    assert first is not None and len(first) == 64
    assert first == again != edited


def test_store_url_defaults_to_sqlite_under_data_dir(tmp_path: Path) -> None:
    """Without a store URL the store is a SQLite file in data_dir, relative to the config file."""
    settings = load(tmp_path, MINIMAL + "store:\n  data_dir: state\n")
    assert settings.store_url() == f"sqlite+aiosqlite:///{tmp_path / 'state' / 'veneer.db'}"


def test_store_url_gets_the_async_driver(tmp_path: Path) -> None:
    """A plain postgresql:// URL is given the asyncpg driver; other schemes are rejected."""
    settings = load(tmp_path, MINIMAL + "store:\n  url: postgresql://u@db/veneer\n")
    assert settings.store_url() == "postgresql+asyncpg://u@db/veneer"
    (found,) = problems(tmp_path, MINIMAL + "store:\n  url: mysql://db/x\n")
    assert "store.url: badly formed" in found


def test_the_embedded_default_config_is_valid(repo_root: Path) -> None:
    """config/gateway.yaml, which `make run` uses, loads without errors in a bare environment."""
    settings = load_settings(repo_root / "config" / "gateway.yaml", environ={})
    assert set(settings.backends) == {"erp", "crm", "wms"}
    assert settings.store_url().startswith("sqlite+aiosqlite:///")


def test_yaml_1_1_booleans_stay_strings(tmp_path: Path) -> None:
    """Keys and values such as No, NO, yes and off keep their text; only true/false are booleans."""
    text = MINIMAL.replace(
        "    operation: SalesOrder.Read",
        "    operation: SalesOrder.Read\n    request: {No: path.no, country: NO, flag: off, on: true}",
    )
    route = load(tmp_path, text).routes["GET /api/v1/orders/{no}"]
    assert dict(route.request) == {"No": "path.no", "country": "NO", "flag": "off", "on": True}


def test_yaml_merge_keys_merge_with_explicit_keys_winning(tmp_path: Path) -> None:
    """`<<: *anchor` copies the anchored mapping in, and keys written beside it override it."""
    text = MINIMAL.replace(
        "    operation: SalesOrder.Read",
        "    operation: SalesOrder.Read\n    request: &base {a: path.no, b: literal}\n"
        "  GET /api/v1/other/{no}:\n    backend: erp\n    operation: X\n"
        "    request:\n      <<: *base\n      b: changed",
    )
    settings = load(tmp_path, text)
    assert dict(settings.routes["GET /api/v1/other/{no}"].request) == {
        "a": "path.no",
        "b": "changed",
    }
