"""The catalogue: every scenario one run measures, what it loads, and in which order.

Order matters: the breaker scenario takes the ERP down, so it runs last; the cold-GET burst
needs a key no earlier scenario has touched. The services named here are started on demand by
:mod:`bench.stack`, so ``--only`` starts only what its scenarios need.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["COLD_GETS", "SCENARIOS", "Scenario", "names", "select"]

ORDER = "SO-100001"  # a released order with five lines, a customer and a shipment
CUSTOMER_ID = 7
SKU = "1000-GR"
BREAKER_ORDER = "SO-100002"
COLD_ORDER = "SO-100400"  # requested by nothing else, so the first GET of it is cold
COLD_GETS = "cold-gets"  # the burst of identical cold GETs (bench.coldgets), selectable by name
COLD_CONCURRENCY = 100

ORDER_PATH = f"/api/v1/orders/{ORDER}"


@dataclass(frozen=True)
class Scenario:
    name: str  # what --only takes, and the key in the JSON
    label: str
    group: str  # limit | peer | raw | veneer
    service: str  # the process under load (bench.stack.SERVICES)
    path: str
    requires: str | None = None  # a gateway capability it needs ("workers")
    breaker: bool = False  # driven with the ERP down (bench.breaker)
    partial_marker: str = ""  # a 200 whose body holds this is a partial answer (counted apart)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("bare", "bare aiohttp, same JSON", "limit", "bare", ORDER_PATH),
    Scenario(
        "bare-uvloop", "bare aiohttp on uvloop, same JSON", "limit", "bare-uvloop", ORDER_PATH
    ),
    Scenario(
        "inlined", "cached facade hand-inlined in one handler", "limit", "inlined", ORDER_PATH
    ),
    Scenario(
        "zeep-executor", "zeep sync client in an executor", "peer", "zeep-executor", ORDER_PATH
    ),
    Scenario("zeep-aiohttp", "zeep XML + aiohttp HTTP", "peer", "zeep-aiohttp", ORDER_PATH),
    Scenario("raw-soap", "raw SOAP Read POST to the ERP", "raw", "raw-http", "/erp"),
    Scenario("raw-xmlrpc", "raw XML-RPC read POST to the CRM", "raw", "raw-http", "/crm"),
    Scenario("raw-wms", "raw Fishbowl InvQtyRq frame to the WMS", "raw", "raw-wms", "/wms"),
    Scenario("cached", "cached GET (warm)", "veneer", "gateway-cached", ORDER_PATH),
    Scenario("soap", "uncached SOAP GET", "veneer", "gateway", ORDER_PATH),
    Scenario(
        "xmlrpc", "uncached XML-RPC GET", "veneer", "gateway", f"/api/v1/customers/{CUSTOMER_ID}"
    ),
    Scenario("wms", "uncached WMS GET", "veneer", "gateway", f"/api/v1/products/{SKU}/stock"),
    Scenario(
        "aggregated",
        "aggregated GET (?include=customer,stock,shipment)",
        "veneer",
        "gateway",
        f"{ORDER_PATH}?include=customer,stock,shipment",
        partial_marker='"unavailable":',  # docs/api.md: a failed include is listed there
    ),
    Scenario(
        "workers-1",
        "cached GET, --workers 1",
        "veneer",
        "gateway-w1",
        ORDER_PATH,
        requires="workers",
    ),
    Scenario(
        "workers-2",
        "cached GET, --workers 2",
        "veneer",
        "gateway-w2",
        ORDER_PATH,
        requires="workers",
    ),
    Scenario(
        "breaker-open",
        "breaker-open answers (ERP down)",
        "veneer",
        "gateway",
        f"/api/v1/orders/{BREAKER_ORDER}",
        breaker=True,
    ),
)


def names() -> list[str]:
    return [s.name for s in SCENARIOS] + [COLD_GETS]


def select(only: Iterable[str] | None) -> tuple[list[Scenario], bool]:
    """The scenarios to run and whether to run the cold-GET burst; unknown names raise."""
    if not only:
        return list(SCENARIOS), True
    wanted = set(only)
    unknown = sorted(wanted - set(names()))
    if unknown:
        hints = [
            f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            for name in unknown
            for close in [difflib.get_close_matches(name, names(), n=1)]
        ]
        raise ValueError(f"unknown scenario {', '.join(hints)}; known: {', '.join(names())}")
    return [s for s in SCENARIOS if s.name in wanted], COLD_GETS in wanted
