"""``python -m bench.soap_codec``: zeep vs the compiled codecs, µs per call, no network.

The load benchmark measures the gateway whole; this isolates the XML work of one SOAP call, the
part the compiled codecs replace. Each case builds the request with the adapter's own
``build_request``, has the sandbox's NAV page service (in-process) answer it, and then times
``build_request`` and ``parse_reply`` per call, once with zeep (``codec: zeep``) and once with the
compiled codecs (the default), on the same operation objects and the same reply bytes. The
reply's XML parse (hardened lxml) is included on both sides, as in a real call.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.erp.envelope import build_request, parse_reply
from adapters.erp.operations import SoapOperation
from adapters.http import HttpReply, RecordedTransport
from sandbox.dataset import build_world
from sandbox.erp.pages import item_page, sales_order_page
from sandbox.erp.store import ErpStore

CONFIG = Path(__file__).resolve().parents[1] / "config"
ANY = [{"Field": "No", "Criteria": "*"}]
CASES: list[tuple[str, dict[str, Any]]] = [
    ("SalesOrder.Read", {"No": "SO-100001"}),
    ("SalesOrder.ReadMultiple", {"filter": ANY, "setSize": 25}),
    ("Item.Read", {"No": "1000-GR"}),
    ("Item.ReadMultiple", {"filter": ANY, "setSize": 25}),
]


async def _unused(*args: Any) -> HttpReply:
    raise AssertionError("the benchmark sends nothing")


def operations() -> dict[str, SoapOperation]:
    context = AdapterContext(
        backend="erp", endpoint="http://erp.bench/", connect_timeout=1, read_timeout=1,
        base_dir=str(CONFIG),
    )  # fmt: skip
    options = SoapOptions(
        services={"SalesOrder": "wsdl/nav-salesorder.wsdl", "Item": "wsdl/nav-item.wsdl"}
    )
    adapter = SoapAdapter(context, options, transport=RecordedTransport(_unused))
    asyncio.run(adapter.start())
    return dict(adapter._operations)


def per_call_us(work: Callable[[], object], calls: int, repeats: int) -> float:
    """Best of ``repeats`` runs of ``calls`` calls, in µs per call (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e6


def measure(
    op: SoapOperation, params: Mapping[str, Any], reply: HttpReply, calls: int
) -> dict[str, float]:
    zeep = dataclasses.replace(op, encoder=None, decoder=None)
    assert parse_reply(op, reply) == parse_reply(zeep, reply), "the codecs disagree"
    result = {}
    for label, subject in (("zeep", zeep), ("compiled", op)):
        result[f"{label} encode"] = per_call_us(
            functools.partial(build_request, subject, params), calls, 5
        )
        result[f"{label} decode"] = per_call_us(
            functools.partial(parse_reply, subject, reply), calls, 5
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soap_codec", description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per timed run (best of 5)")
    args = parser.parse_args()
    ops = operations()
    store = ErpStore(build_world())
    pages = {"SalesOrder": sales_order_page(store), "Item": item_page(store)}
    print(f"{'µs per call':24} {'reply':>7} {'zeep enc':>9} {'dec':>7} {'total':>7}", end="")
    print(f" | {'compiled enc':>12} {'dec':>7} {'total':>7} | speed-up")
    for name, params in CASES:
        op = ops[name]
        body, headers = build_request(op, params)
        status, answer = pages[name.split(".")[0]].answer(headers["SOAPAction"], body)
        reply = HttpReply(status, answer, {"Content-Type": "text/xml; charset=utf-8"})
        t = measure(op, params, reply, args.calls)
        zeep = t["zeep encode"] + t["zeep decode"]
        ours = t["compiled encode"] + t["compiled decode"]
        print(
            f"{name:24} {len(answer):>6}B {t['zeep encode']:9.1f} {t['zeep decode']:7.1f} "
            f"{zeep:7.1f} | {t['compiled encode']:12.1f} {t['compiled decode']:7.1f} {ours:7.1f}"
            f" | {zeep / ours:7.1f}x"
        )


if __name__ == "__main__":
    main()
