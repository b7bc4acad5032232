"""The environment that points the default configuration at a running sandbox."""

from __future__ import annotations

from pathlib import Path

from sandbox.runner import Sandbox


def sandbox_env(sandbox: Sandbox, store_dir: Path | None = None) -> dict[str, str]:
    """VENEER_*_URL for the three systems, and a private SQLite store when ``store_dir`` is given."""
    env = {
        "VENEER_ERP_URL": f"{sandbox.erp.url}/WS/CRONUS/Page",
        "VENEER_CRM_URL": sandbox.crm.url,
        "VENEER_WMS_URL": sandbox.wms.url,
    }
    if store_dir is not None:
        env["VENEER_STORE_URL"] = f"sqlite:///{store_dir / 'veneer.db'}"
    return env
