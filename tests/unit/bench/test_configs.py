"""The uncached configuration copy the benchmark generates from the shipped one."""

from __future__ import annotations

from pathlib import Path

from bench.configs import BREAKER_OPEN_FOR, DEFAULT_CONFIG, write_uncached_config
from facade.settings import load_settings


def test_the_uncached_copy_is_valid_and_has_no_cache_anywhere(tmp_path: Path) -> None:
    """No cache on any backend or route, NAV's `no` stays a string, WSDL paths still resolve."""
    copy = write_uncached_config(tmp_path, DEFAULT_CONFIG)
    settings = load_settings(copy)
    shipped = load_settings(DEFAULT_CONFIG)

    assert set(settings.routes) == set(shipped.routes)
    assert all(route.cache is None for route in settings.routes.values())
    assert "cache:" not in copy.read_text()
    assert f"open_for: {BREAKER_OPEN_FOR}" in copy.read_text()
    assert (tmp_path / "wsdl" / "nav-salesorder.wsdl").is_file()
