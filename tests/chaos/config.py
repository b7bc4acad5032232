"""The chaos suite's copy of the embedded default configuration, with faster clocks.

The chaos tests run the shipped ``config/gateway.yaml`` with one change: the ERP backend's
timeouts, breaker period and cache lifetimes are shortened so a fault, a trip and a recovery fit
in seconds. Every number the assertions depend on lives in :class:`ChaosTimings`, which also
writes the ERP block, so a test's bounds and the gateway's behaviour cannot drift apart.

The copy is made by text replacement that insists on finding each anchor the expected number of
times: if ``gateway.yaml`` is reshaped, the suite fails loudly here instead of quietly testing a
configuration nobody ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ORDER_ROUTE_TIMEOUT_S", "ChaosTimings", "write_chaos_config"]

#: The route deadline the test gives ``GET /api/v1/orders/{no}``: the "configured timeout"
#: every answer on that route must beat, fault or not.
ORDER_ROUTE_TIMEOUT_S = 2.5


@dataclass(frozen=True)
class ChaosTimings:
    """The ERP's resilience settings in the chaos suite (the shipped ones, made faster)."""

    connect_timeout_s: float = 0.25
    read_timeout_s: float = 1.0
    # The shipped breaker thresholds, unchanged; only the open period is shorter (15 s there).
    consecutive_failures: int = 5
    failure_rate: float = 0.5
    window_size: int = 20
    minimum_calls: int = 10
    open_for_s: float = 2.0
    # The shipped retry policy; the budget window outlasts a test, so a budget check may count
    # every call the (fresh) gateway ever made.
    retry_attempts: int = 3
    retry_backoff_s: float = 0.05
    retry_backoff_max_s: float = 0.2
    retry_budget: float = 0.2
    retry_budget_window_s: float = 120.0
    retry_budget_min_retries: int = 3
    # Short-lived cache so a warmed answer turns stale within a test.
    cache_ttl_s: float = 1.0
    cache_swr_s: float = 1.0
    cache_sie_s: float = 3600.0
    order_route_timeout_s: float = ORDER_ROUTE_TIMEOUT_S

    def erp_block(self, wsdl_dir: Path) -> str:
        """The ``backends.erp`` section of the test configuration."""
        return (
            "  erp:\n"
            "    kind: soap\n"
            "    description: Sales orders and items (chaos-test timings)\n"
            "    endpoint: ${VENEER_ERP_URL}\n"
            "    options:\n"
            "      services:\n"
            f"        SalesOrder: {wsdl_dir / 'nav-salesorder.wsdl'}\n"
            f"        Item: {wsdl_dir / 'nav-item.wsdl'}\n"
            f"    timeouts: {{connect: {_ms(self.connect_timeout_s)}, read: {_ms(self.read_timeout_s)}}}\n"
            f"    breaker: {{consecutive_failures: {self.consecutive_failures},"
            f" failure_rate: {self.failure_rate}, window_size: {self.window_size},"
            f" minimum_calls: {self.minimum_calls}, open_for: {_ms(self.open_for_s)}}}\n"
            f"    retry: {{attempts: {self.retry_attempts}, backoff: {_ms(self.retry_backoff_s)},"
            f" backoff_max: {_ms(self.retry_backoff_max_s)}, budget: {self.retry_budget},"
            f" budget_window: {_ms(self.retry_budget_window_s)},"
            f" budget_min_retries: {self.retry_budget_min_retries}}}\n"
            "    bulkhead: {max_concurrent: 32, max_wait: 250ms}\n"
            f"    cache: {self.cache_line()}\n"
            "\n"
        )

    def cache_line(self) -> str:
        return (
            f"{{ttl: {_ms(self.cache_ttl_s)}, stale_while_revalidate: {_ms(self.cache_swr_s)},"
            f" stale_if_error: {_ms(self.cache_sie_s)}}}"
        )


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _replace(text: str, old: str, new: str, *, count: int = 1) -> str:
    found = text.count(old)
    if found != count:
        raise AssertionError(
            f"config/gateway.yaml changed shape: expected {count} x {old!r}, found {found};"
            " update tests/chaos/config.py"
        )
    return text.replace(old, new)


def write_chaos_config(repo: Path, target_dir: Path, timings: ChaosTimings) -> Path:
    """Write the test configuration into ``target_dir`` and return its path."""
    text = (repo / "config" / "gateway.yaml").read_text()
    start = text.index("  erp:\n")
    end = text.index("  crm:\n")
    text = text[:start] + timings.erp_block(repo / "config" / "wsdl") + text[end:]
    text = _replace(text, "data_dir: ../.veneer", f"data_dir: {target_dir / 'data'}")
    # Both ERP read routes carry their own cache policy, which overrides the backend's.
    text = _replace(
        text,
        "cache: {ttl: 15s, stale_while_revalidate: 30s, stale_if_error: 1h}",
        f"cache: {timings.cache_line()}",
        count=2,
    )
    text = _replace(
        text,
        "    operation: SalesOrder.Read\n",
        f"    operation: SalesOrder.Read\n    timeout: {_ms(timings.order_route_timeout_s)}\n",
    )
    path = target_dir / "gateway.yaml"
    path.write_text(text)
    return path
