"""Route access rules: scopes derived from paths, public routes, answer_with, rate-limit policies."""

from __future__ import annotations

import textwrap
from pathlib import Path

from facade.security.access import AccessTable, default_scopes
from facade.settings import load_settings

CONFIG = """
auth:
  enabled: AUTH
rate_limit: {rate: 5, burst: 10}
backends:
  mem: {kind: memory, endpoint: http://127.0.0.1:1/}
routes:
  GET /api/v1/orders/{no}: {backend: mem, operation: get}
  POST /api/v1/orders:
    backend: mem
    operation: put
    answer_with: {route: "GET /api/v1/orders/{no}", params: {no: result.no}}
  GET /api/v1/orders/{no}/shipment: {backend: mem, operation: get, rate_limit: {rate: 1, burst: 1}}
  GET /api/v1/status: {backend: mem, operation: get, public: true}
  DELETE /api/v1/orders/{no}: {backend: mem, operation: put, scopes: [orders:admin]}
"""


def table(tmp_path: Path, auth: str = "true") -> AccessTable:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(CONFIG).replace("AUTH", auth))
    return AccessTable.from_settings(load_settings(path, environ={}, kinds=["memory"]))


def test_scopes_default_from_the_first_path_segment() -> None:
    """GET needs <resource>:read, any write <resource>:write, whatever follows the resource."""
    assert default_scopes("GET", "/api/v1/orders/{no}/shipment") == ("orders:read",)
    assert default_scopes("PATCH", "/api/v1/orders/{no}") == ("orders:write",)
    assert default_scopes("HEAD", "/api/v2/stock") == ("stock:read",)


def test_routes_get_their_rules(tmp_path: Path) -> None:
    """Declared scopes win, public routes need none, answer_with adds the reader's scopes."""
    rules = table(tmp_path)
    assert rules.for_route("GET /api/v1/orders/{no}").scopes == ("orders:read",)
    assert rules.for_route("POST /api/v1/orders").scopes == ("orders:write", "orders:read")
    assert rules.for_route("DELETE /api/v1/orders/{no}").scopes == ("orders:admin",)
    status = rules.for_route("GET /api/v1/status")
    assert status.public and status.scopes == ()
    assert sorted(rules.required_scopes()) == ["orders:admin", "orders:read", "orders:write"]


def test_rate_limit_policies_come_from_the_route_or_the_default(tmp_path: Path) -> None:
    """A route's own rate_limit is the `route` policy; the others share the `default` one."""
    rules = table(tmp_path)
    shipment = rules.for_route("GET /api/v1/orders/{no}/shipment")
    assert (shipment.limit_name, shipment.limit and shipment.limit.burst) == ("route", 1)
    order = rules.for_route("GET /api/v1/orders/{no}")
    assert (order.limit_name, order.limit and order.limit.rate) == ("default", 5.0)


def test_auth_disabled_makes_every_route_public(tmp_path: Path) -> None:
    """`auth.enabled: false` (development only) opens every route, unknown /api paths included."""
    rules = table(tmp_path, "false")
    assert rules.for_route("DELETE /api/v1/orders/{no}").public
    assert rules.for_route("GET /api/v1/other").public
