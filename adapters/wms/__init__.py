"""WMS adapters: proprietary framed TCP, with Fishbowl Inventory's legacy API as the built-in.

``fishbowl`` speaks Fishbowl's length-prefixed FbiJson/FbiXml protocol with its login session;
``framed-tcp`` is the generic kind for other TCP services, configured by framing and payload.
"""

from __future__ import annotations

from adapters.wms.fishbowl import FishbowlAdapter
from adapters.wms.framed import FramedTcpAdapter
from adapters.wms.options import FishbowlOptions, FramedTcpOptions
from adapters.wms.pool import ConnectionPool, PoolStats

__all__ = [
    "ConnectionPool",
    "FishbowlAdapter",
    "FishbowlOptions",
    "FramedTcpAdapter",
    "FramedTcpOptions",
    "PoolStats",
]
