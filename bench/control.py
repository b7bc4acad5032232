"""The sandbox's fault-injection API, as the benchmark uses it: request counters and faults.

The counters are how the benchmark sees behind the gateway: backend calls per request tell a
cache hit from a miss, and calls made while a breaker claims to be open tell whether it is.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

__all__ = ["SandboxControl"]


@dataclass(frozen=True)
class SandboxControl:
    base_url: str  # http://127.0.0.1:PORT (the control API's root)

    def requests(self) -> dict[str, int]:
        """Requests each system has received since it started: ``{"erp": n, "crm": n, "wms": n}``."""
        with urllib.request.urlopen(f"{self.base_url}/faults", timeout=5) as reply:
            state = json.load(reply)
        return {name: int(system["requests"]) for name, system in state.items()}

    def set_fault(self, system: str, mode: str) -> None:
        request = urllib.request.Request(
            f"{self.base_url}/faults/{system}",
            data=json.dumps({"mode": mode}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):
            pass
