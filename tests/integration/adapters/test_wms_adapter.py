"""FishbowlAdapter against the real WMS sandbox over 127.0.0.1: data, sessions, faults, the pool.

The sandbox is a separate implementation of the Fishbowl protocol (its own framing, parser and
session table), so these tests prove the adapter speaks the protocol, not that it agrees with
itself. Waits are short and bounded; timing assertions allow for a loaded machine on the slow
side only where the contract allows (a 1.5 s timeout must fire before 1.9 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.errors import (
    AccessDenied,
    BackendTimeout,
    BackendUnavailable,
    Conflict,
    ConnectFailed,
    NotFound,
    ProtocolError,
)
from adapters.wms import FishbowlAdapter, FishbowlOptions
from adapters.wms.pool import ConnectionPool
from sandbox.dataset import World, build_world
from sandbox.faults import Fault, FaultSwitch
from sandbox.wms import WmsSandbox

MakeAdapter = Callable[..., FishbowlAdapter]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture
async def wms(world: World) -> AsyncIterator[WmsSandbox]:
    sandbox = WmsSandbox(world, FaultSwitch("wms", supports_sessions=True), port=0)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def make_adapter(wms: WmsSandbox) -> AsyncIterator[MakeAdapter]:
    made: list[FishbowlAdapter] = []

    def make(
        *,
        read_timeout: float = 2.0,
        connect_timeout: float = 1.0,
        password: str = "admin",
        **options: Any,
    ) -> FishbowlAdapter:
        context = AdapterContext(
            backend="wms",
            endpoint=wms.url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            username="admin",
            password=password,
        )
        adapter = FishbowlAdapter(context, FishbowlOptions(app_id=54321, **options))
        made.append(adapter)
        return adapter

    yield make
    await wms.switch.set(Fault())  # a hanging sandbox would make every logout wait
    for adapter in made:
        await adapter.close()


def pool_of(adapter: FishbowlAdapter) -> ConnectionPool:
    pool = adapter.transport
    assert isinstance(pool, ConnectionPool)
    return pool


def server_connections(wms: WmsSandbox) -> int:
    return wms.open_connections


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Poll a condition on state the test cannot await (the sandbox's connection table)."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition(), f"not true within {within}s"


def part_with_most_locations(world: World) -> str:
    counts: dict[str, int] = {}
    for level in world.stock:
        counts[level.part_num] = counts.get(level.part_num, 0) + 1
    return max(counts, key=lambda num: counts[num])


async def test_inv_qty_matches_the_worlds_stock_per_location(
    make_adapter: MakeAdapter, world: World
) -> None:
    """InvQty returns, per location, exactly the quantity the seeded world holds."""
    part = part_with_most_locations(world)
    result = await make_adapter().call("InvQty", {"PartNum": part})
    got = {row["Location"]["Name"]: row["QtyOnHand"] for row in result["InvQty"]}
    expected = {level.location: level.qty for level in world.stock if level.part_num == part}
    assert len(expected) > 1
    assert got == expected


async def test_unknown_part_is_not_found(make_adapter: MakeAdapter) -> None:
    """A part the warehouse does not know is NotFound with Fishbowl's code 2000."""
    with pytest.raises(NotFound) as caught:
        await make_adapter().call("InvQty", {"PartNum": "NO-SUCH-PART"})
    assert (caught.value.code, caught.value.backend, caught.value.operation) == (
        2000,
        "wms",
        "InvQty",
    )


async def test_get_shipment_by_number_and_an_unknown_one(
    make_adapter: MakeAdapter, world: World
) -> None:
    """GetShipment returns the world's shipment; an unknown number is NotFound 5201."""
    adapter = make_adapter()
    shipment = world.shipments[0]
    result = await adapter.call("GetShipment", {"ShipmentNUM": shipment.number})
    assert result["Shipping"]["ShipNum"] == shipment.number
    assert result["Shipping"]["OrderNumber"] == shipment.order_no
    with pytest.raises(NotFound) as caught:
        await adapter.call("GetShipment", {"ShipmentNUM": "S999999"})
    assert caught.value.code == 5201


async def test_shipping_twice_is_a_conflict(make_adapter: MakeAdapter, world: World) -> None:
    """Ship succeeds once; shipping the same shipment again is a Conflict (5202)."""
    adapter = make_adapter()
    open_one = next(s for s in world.shipments if s.status in {"Entered", "Packed"})
    shipped = await adapter.call("Ship", {"ShipNum": open_one.number})
    assert shipped["Shipping"][0]["Status"] == 30
    with pytest.raises(Conflict) as caught:
        await adapter.call("Ship", {"ShipNum": open_one.number})
    assert caught.value.code == 5202


async def test_execute_query_returns_csv_rows(make_adapter: MakeAdapter) -> None:
    """ExecuteQuery's rows come back as CSV lines, the header first."""
    result = await make_adapter().call(
        "ExecuteQuery", {"Query": "SELECT num FROM part WHERE num = '1000-GR'"}
    )
    assert result == {"Rows": {"Row": ['"num"', '"1000-GR"']}}


async def test_xml_dialect_reads_the_same_stock(make_adapter: MakeAdapter, world: World) -> None:
    """The FbiXml dialect (bare DOCTYPE allowed) returns the same quantities, as text."""
    part = part_with_most_locations(world)
    result = await make_adapter(dialect="xml").call("InvQty", {"PartNum": part})
    rows = result["InvQty"] if isinstance(result["InvQty"], list) else [result["InvQty"]]
    got = {row["Location"]["Name"]: int(row["QtyOnHand"]) for row in rows}
    assert got == {level.location: level.qty for level in world.stock if level.part_num == part}


async def test_xml_dialect_refusing_doctypes_refuses_real_fishbowl_replies(
    make_adapter: MakeAdapter,
) -> None:
    """With allow_doctype off, Fishbowl's <!DOCTYPE FbiXml> replies are a ProtocolError."""
    with pytest.raises(ProtocolError, match="DOCTYPE"):
        await make_adapter(dialect="xml", allow_doctype=False).call(
            "PartGet", {"Number": "1000-GR"}
        )


async def test_dropped_session_is_renewed_transparently(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """After drop_session the next call logs in once more and succeeds without an error."""
    adapter = make_adapter()
    await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("drop_session"))
    await wms.switch.set(Fault())
    assert len(wms.sessions) == 0
    results = await asyncio.gather(
        *(adapter.call("PartGet", {"Number": "1000-GR"}) for _ in range(8))
    )
    assert all(r["Part"]["Num"] == "1000-GR" for r in results)
    assert adapter.ticket.logins == 2
    assert len(wms.sessions) == 1


async def test_bad_credentials_are_access_denied(make_adapter: MakeAdapter) -> None:
    """A wrong password gets Fishbowl's 1120 as AccessDenied (permanent)."""
    with pytest.raises(AccessDenied) as caught:
        await make_adapter(password="wrong").call("PartGet", {"Number": "1000-GR"})
    assert caught.value.code == 1120
    assert not caught.value.transient


async def test_down_is_connect_failed(make_adapter: MakeAdapter, wms: WmsSandbox) -> None:
    """A refused port is ConnectFailed, whether the pool had a connection or not."""
    warm, cold = make_adapter(), make_adapter()
    await warm.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("down"))
    for adapter in (warm, cold):
        with pytest.raises(ConnectFailed) as caught:
            await adapter.call("PartGet", {"Number": "1000-GR"})
        assert caught.value.transient


async def test_reconnects_after_down_then_reset(make_adapter: MakeAdapter, wms: WmsSandbox) -> None:
    """After the backend comes back the pool opens a fresh connection and the ticket still works."""
    adapter = make_adapter()
    await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("down"))
    with pytest.raises(ConnectFailed):
        await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault())
    assert (await adapter.call("PartGet", {"Number": "1000-GR"}))["Part"]["Num"] == "1000-GR"
    stats = pool_of(adapter).stats()
    assert (stats.opened, stats.open) == (2, 1)
    assert adapter.ticket.logins == 1


async def test_hang_times_out_at_the_read_timeout(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """With a 0.3 s read timeout a hanging backend is a BackendTimeout after 0.3 to 0.5 s."""
    adapter = make_adapter(read_timeout=0.3)
    await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("hang"))
    started = time.perf_counter()
    with pytest.raises(BackendTimeout):
        await adapter.call("PartGet", {"Number": "1000-GR"})
    assert 0.3 <= time.perf_counter() - started < 0.5


async def test_a_configured_1_5_s_timeout_fires_before_1_9_s(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """A 1.5 s read timeout, and a 1.5 s call deadline under a longer one, both fire in time."""
    slow_read, deadline = make_adapter(read_timeout=1.5), make_adapter(read_timeout=10.0)
    await wms.switch.set(Fault.parse("hang"))  # the logins hang too: the limit covers them

    async def elapsed(adapter: FishbowlAdapter, timeout: float | None) -> float:
        started = time.perf_counter()
        with pytest.raises(BackendTimeout):
            await adapter.call("PartGet", {"Number": "1000-GR"}, timeout=timeout)
        return time.perf_counter() - started

    times = await asyncio.gather(elapsed(slow_read, None), elapsed(deadline, 1.5))
    assert all(1.5 <= t < 1.9 for t in times), times
    assert FishbowlAdapter.bounds_calls  # what this backs: the policy sets no guard of its own


async def test_garbage_is_a_protocol_error(make_adapter: MakeAdapter, wms: WmsSandbox) -> None:
    """A well-framed reply that is not JSON is a ProtocolError (and counts as a backend failure)."""
    await wms.switch.set(Fault.parse("garbage"))
    with pytest.raises(ProtocolError) as caught:
        await make_adapter().call("PartGet", {"Number": "1000-GR"})
    assert caught.value.backend_failure


async def test_error_rate_one_is_backend_unavailable(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """Every request answered 1009 (server shut down) is a transient BackendUnavailable."""
    adapter = make_adapter()
    await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("error_rate:1"))
    with pytest.raises(BackendUnavailable) as caught:
        await adapter.call("PartGet", {"Number": "1000-GR"})
    assert (caught.value.code, caught.value.transient) == (1009, True)


async def test_twenty_concurrent_calls_share_four_connections(
    make_adapter: MakeAdapter, wms: WmsSandbox, world: World
) -> None:
    """Twenty overlapping calls over a pool of four all succeed on at most four connections."""
    adapter = make_adapter(pool_size=4)
    await wms.switch.set(Fault.parse("slow:30"))  # make the calls overlap
    parts = [item.no for item in world.items[:20]]
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, server_connections(wms))
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(adapter.call("PartGet", {"Number": p}) for p in parts))
    finally:
        watcher.cancel()
    assert [r["Part"]["Num"] for r in results] == parts
    stats = pool_of(adapter).stats()
    assert stats.opened == 4  # all four used, never a fifth
    assert (stats.open, stats.idle, stats.in_use) == (4, 4, 0)
    assert peak <= 4


async def test_cancelled_call_discards_its_connection(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """Cancelling an in-flight call propagates CancelledError and leaks no connection."""
    adapter = make_adapter()
    await adapter.call("PartGet", {"Number": "1000-GR"})
    await wms.switch.set(Fault.parse("hang"))
    before = wms.switch.requests
    task = asyncio.create_task(adapter.call("PartGet", {"Number": "1000-GR"}))
    await eventually(lambda: wms.switch.requests > before)  # the request is at the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stats = pool_of(adapter).stats()
    assert (stats.open, stats.in_use, stats.discarded) == (0, 0, 1)
    await wms.switch.set(Fault())
    assert (await adapter.call("PartGet", {"Number": "1000-GR"}))["Part"]["Num"] == "1000-GR"
    await eventually(lambda: server_connections(wms) == 1)  # the server closed its side too


async def test_a_reply_over_max_frame_is_refused_and_its_connection_dropped(
    make_adapter: MakeAdapter,
) -> None:
    """An announced length above max_frame is a ProtocolError and the stream is not reused."""
    adapter = make_adapter(max_frame=4096)
    await adapter.call("PartGet", {"Number": "1000-GR"})
    with pytest.raises(ProtocolError, match="exceeds the 4096-byte limit"):
        await adapter.call("GetShipList", {})
    stats = pool_of(adapter).stats()
    assert (stats.open, stats.discarded) == (0, 1)
    assert (await adapter.call("PartGet", {"Number": "1000-GR"}))["Part"]["Num"] == "1000-GR"


async def test_health_logs_in_and_reports_a_down_backend(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """Health is ok (and logged in) when up, and not ok without raising when down."""
    adapter = make_adapter()
    assert (await adapter.health()).ok
    assert adapter.ticket.logins == 1
    await wms.switch.set(Fault.parse("down"))
    health = await adapter.health()
    assert not health.ok
    assert "refused" in health.detail


async def test_close_logs_out_and_closes_every_connection(
    make_adapter: MakeAdapter, wms: WmsSandbox
) -> None:
    """close() ends the Fishbowl session and the server sees the connections go."""
    adapter = make_adapter()
    await asyncio.gather(*(adapter.call("PartGet", {"Number": "1000-GR"}) for _ in range(3)))
    assert len(wms.sessions) == 1
    await adapter.close()
    assert len(wms.sessions) == 0
    assert pool_of(adapter).stats().open == 0
    await eventually(lambda: server_connections(wms) == 0)
