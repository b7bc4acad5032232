"""The sandbox ERP: SOAP 1.1 page web services modelled on Microsoft Dynamics NAV."""

from __future__ import annotations

from sandbox.erp.server import DEFAULT_WSDL_DIR, ErpSandbox

__all__ = ["DEFAULT_WSDL_DIR", "ErpSandbox"]
