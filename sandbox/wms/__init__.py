"""The WMS sandbox: a Fishbowl Inventory legacy-API server (framed TCP, FbiJson and FbiXml)."""

from __future__ import annotations

from sandbox.wms.server import DEFAULT_PORT, WmsSandbox

__all__ = ["DEFAULT_PORT", "WmsSandbox"]
