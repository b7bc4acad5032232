"""Which event loop `listen.loop` gives the gateway, and what happens where uvloop is missing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from facade.cli import _run_served
from facade.eventloop import LoopUnavailable, loop_factory, loop_name, run
from facade.settings import load_settings


async def _which_loop() -> str:
    await asyncio.sleep(0)
    return loop_name()


@pytest.fixture
def without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where uvloop is not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "uvloop", None)


def test_auto_and_uvloop_run_on_uvloop_where_it_is_installed() -> None:
    """auto and uvloop both run the coroutine on uvloop and hand back its result."""
    assert run(_which_loop(), "auto") == "uvloop"
    assert run(_which_loop(), "uvloop") == "uvloop"


def test_asyncio_runs_on_asyncios_own_loop() -> None:
    """asyncio never takes uvloop, even where it is installed."""
    assert loop_factory("asyncio") is None
    assert run(_which_loop(), "asyncio") == "asyncio"


@pytest.mark.usefixtures("without_uvloop")
def test_auto_falls_back_to_asyncio_without_uvloop() -> None:
    """auto serves on asyncio's loop where uvloop cannot be imported."""
    assert loop_factory("auto") is None
    assert run(_which_loop(), "auto") == "asyncio"


@pytest.mark.usefixtures("without_uvloop")
def test_insisting_on_a_missing_uvloop_fails_without_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """listen.loop: uvloop without uvloop is a config error naming file and path; nothing runs."""
    with pytest.raises(LoopUnavailable, match="not installed"):
        loop_factory("uvloop")
    config = tmp_path / "gateway.yaml"
    config.write_text("version: 1\nlisten: {loop: uvloop}\n")
    ran = []

    async def main() -> None:
        ran.append(True)

    assert _run_served(load_settings(config), main()) == 2
    assert not ran
    report = capsys.readouterr().err
    assert f"{config}:2:" in report and "listen.loop: uvloop is not installed" in report
