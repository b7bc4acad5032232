"""What both zeep peers share: the sandbox ERP's WSDL, its binding, and the order as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zeep.helpers import serialize_object

__all__ = ["BINDING", "DEFAULT_WSDL", "order_json"]

DEFAULT_WSDL = Path(__file__).resolve().parents[2] / "config" / "wsdl" / "nav-salesorder.wsdl"
BINDING = "{urn:microsoft-dynamics-schemas/page/salesorder}SalesOrder_Binding"


def order_json(order: Any) -> bytes:
    """zeep's object → JSON, the usual way: serialize_object, then str() for dates and decimals."""
    return json.dumps(serialize_object(order, dict), default=str).encode()
