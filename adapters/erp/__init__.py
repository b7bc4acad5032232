"""ERP adapters: SOAP backends described by WSDL (Dynamics NAV page services and the like).

``soap`` loads WSDLs offline with zeep under hardened settings, builds envelopes and reads replies
with codecs compiled from the WSDL (:mod:`adapters.erp.compiled`) or, where they do not reach,
with zeep, and sends them over one pooled aiohttp client.
"""

from __future__ import annotations

from adapters.erp.adapter import SoapAdapter
from adapters.erp.faults import DEFAULT_FAULT_RULES
from adapters.erp.loader import WsdlLoadError
from adapters.erp.options import FaultRule, ServiceOptions, SoapOptions

__all__ = [
    "DEFAULT_FAULT_RULES",
    "FaultRule",
    "ServiceOptions",
    "SoapAdapter",
    "SoapOptions",
    "WsdlLoadError",
]
