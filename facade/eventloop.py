"""The event loop the gateway serves on: uvloop where it is installed, asyncio's own otherwise.

uvloop runs the same asyncio programs on libuv, and a gateway is mostly what it makes cheaper:
socket reads and writes, timers and callbacks. Side by side it took 5-8% of the CPU off every
kind of read, cached or not (architecture decision 44). Nothing in veneer
depends on which loop runs it; the test suite runs in-process on asyncio's loop and starts its
real gateway processes on uvloop, so both are exercised.

``listen.loop`` chooses: ``auto`` (the default) takes uvloop when it can be imported, ``uvloop``
insists on it (a configuration error where it is missing) and ``asyncio`` never uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

__all__ = ["LoopChoice", "LoopUnavailable", "loop_factory", "loop_name", "run"]

T = TypeVar("T")
LoopChoice = Literal["auto", "uvloop", "asyncio"]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


class LoopUnavailable(Exception):
    """``listen.loop: uvloop`` on a machine without uvloop (Windows, or a trimmed install)."""


def loop_factory(choice: LoopChoice) -> LoopFactory | None:
    """What makes the loop for ``choice``; None is asyncio's default loop."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise LoopUnavailable("uvloop is not installed (pip install uvloop)") from None
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], choice: LoopChoice) -> T:
    """``asyncio.run(main)`` on the loop ``choice`` names."""
    try:
        factory = loop_factory(choice)
    except BaseException:
        main.close()  # never awaited: say nothing about it
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: which loop runs this coroutine."""
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.partition(".")[0] == "uvloop" else "asyncio"
