"""The WMS sandbox over real sockets, driven by a raw asyncio stream client.

The client below frames bytes itself (``struct``) and reads replies with the standard library's
``json``, ``csv`` and ``xml.etree``: nothing from the sandbox's own framing or parsing is
trusted, so these tests prove the wire format, not just the code's agreement with itself.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import json
import struct
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox.dataset import World, build_world
from sandbox.faults import Fault, FaultKind, FaultSwitch
from sandbox.wms import WmsSandbox

WAIT = 2.0  # bound on every wait for a reply that should come
IDLE_S = 60.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class RawClient:
    """A Fishbowl client in thirty lines: length-prefixed frames over one TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, payload: bytes) -> None:
        await self.write(struct.pack(">i", len(payload)) + payload)

    async def receive(self, within: float = WAIT) -> bytes:
        async with asyncio.timeout(within):
            (length,) = struct.unpack(">i", await self.reader.readexactly(4))
            return await self.reader.readexactly(length)

    async def call(self, key: str, messages: dict[str, Any]) -> dict[str, Any]:
        document = {"FbiJson": {"Ticket": {"Key": key}, "FbiMsgsRq": messages}}
        await self.send(json.dumps(document).encode())
        return json.loads(await self.receive())["FbiJson"]

    async def login(self, user: str = "admin", password: str = "admin") -> str:
        reply = await self.call("", {"LoginRq": login_params(user, password)})
        assert reply["FbiMsgsRs"]["statusCode"] == 1000, reply
        return reply["Ticket"]["Key"]

    async def closed_by_peer(self) -> bool:
        try:
            async with asyncio.timeout(WAIT):
                return await self.reader.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.writer.close()


def login_params(user: str = "admin", password: str = "admin") -> dict[str, Any]:
    return {
        "IAID": 54321,
        "IAName": "veneer",
        "IADescription": "gateway tests",
        "UserName": user,
        "UserPassword": password,
    }


def login_frame(user: str = "admin", password: str = "admin") -> bytes:
    document = {
        "FbiJson": {"Ticket": {"Key": ""}, "FbiMsgsRq": {"LoginRq": login_params(user, password)}}
    }
    payload = json.dumps(document).encode()
    return struct.pack(">i", len(payload)) + payload


def status(reply: dict[str, Any], message: str) -> tuple[int, int]:
    """(envelope statusCode, message statusCode)."""
    envelope = reply["FbiMsgsRs"]
    return envelope["statusCode"], envelope[message]["statusCode"]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def wms(world: World, clock: FakeClock) -> AsyncIterator[WmsSandbox]:
    sandbox = WmsSandbox(
        world,
        FaultSwitch("wms", supports_sessions=True),
        port=0,
        clock=clock,
        session_idle_s=IDLE_S,
    )
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def client(wms: WmsSandbox) -> AsyncIterator[RawClient]:
    connection = await RawClient.connect(wms.port)
    yield connection
    connection.close()


async def test_login_returns_a_ticket_key_and_user_id(wms: WmsSandbox, client: RawClient):
    """LoginRq with good credentials answers 1000 twice and a non-empty ticket key."""
    assert wms.url == f"tcp://127.0.0.1:{wms.port}"
    reply = await client.call("", {"LoginRq": login_params()})
    assert status(reply, "LoginRs") == (1000, 1000)
    assert reply["Ticket"]["Key"]
    assert reply["Ticket"]["UserID"] == 1
    assert list(reply["FbiMsgsRs"])[1] == "LoginRs"  # fishbowl-js reads the second key


async def test_login_accepts_the_md5_base64_password_fishbowl_clients_send(client: RawClient):
    """The hashed password form that fishbowl-js sends logs in like the clear one."""
    hashed = base64.b64encode(hashlib.md5(b"admin").digest()).decode()
    assert await client.login(password=hashed)


async def test_bad_credentials_are_answered_1120(client: RawClient):
    """A wrong password gets 1120 in envelope and message, and no ticket."""
    reply = await client.call("", {"LoginRq": login_params(password="wrong")})
    assert status(reply, "LoginRs") == (1120, 1120)
    assert reply["FbiMsgsRs"]["statusMessage"] == "Invalid username or password."
    assert reply["Ticket"]["Key"] == ""


async def test_inv_qty_reports_the_world_stock_per_location(world: World, client: RawClient):
    """InvQtyRq answers one InvQty per location holding the part, with the world's quantities."""
    part_num = next(
        s.part_num for s in world.stock if sum(x.part_num == s.part_num for x in world.stock) > 1
    )
    expected = {
        (s.location, s.location_group, s.qty) for s in world.stock if s.part_num == part_num
    }
    key = await client.login()
    reply = await client.call(key, {"InvQtyRq": {"PartNum": part_num}})
    assert status(reply, "InvQtyRs") == (1000, 1000)
    rows = reply["FbiMsgsRs"]["InvQtyRs"]["InvQty"]
    seen = {
        (r["Location"]["Name"], r["Location"]["LocationGroupName"], r["QtyOnHand"]) for r in rows
    }
    assert seen == expected
    for row in rows:
        assert row["Part"]["Num"] == part_num
        assert row["QtyAvailable"] + row["QtyCommitted"] == row["QtyOnHand"]
        assert row["QtyCommitted"] >= 0


async def test_an_unknown_part_is_answered_2000(client: RawClient):
    """InvQtyRq and PartGetRq for a part nobody stocks answer 2000 naming the part."""
    key = await client.login()
    reply = await client.call(key, {"InvQtyRq": {"PartNum": "NOPE-42"}})
    assert status(reply, "InvQtyRs") == (2000, 2000)
    assert "NOPE-42" in reply["FbiMsgsRs"]["InvQtyRs"]["statusMessage"]
    reply = await client.call(key, {"PartGetRq": {"Number": "NOPE-42"}})
    assert status(reply, "PartGetRs") == (2000, 2000)


async def test_part_get_returns_the_item_card(world: World, client: RawClient):
    """PartGetRq answers the world item's number, description and active flag."""
    item = world.items[3]
    key = await client.login()
    reply = await client.call(key, {"PartGetRq": {"Number": item.no}})
    part = reply["FbiMsgsRs"]["PartGetRs"]["Part"]
    assert (part["Num"], part["Description"], part["ActiveFlag"]) == (
        item.no,
        item.description,
        not item.blocked,
    )


async def test_missing_and_unknown_tickets_are_answered_1130_and_1131(client: RawClient):
    """A request with no ticket key gets 1130; with a key never issued, 1131."""
    reply = await client.call("", {"InvQtyRq": {"PartNum": "1000-BK"}})
    assert status(reply, "InvQtyRs") == (1130, 1130)
    reply = await client.call("forged-key", {"InvQtyRq": {"PartNum": "1000-BK"}})
    assert status(reply, "InvQtyRs") == (1131, 1131)


async def test_an_unknown_message_is_answered_1001(client: RawClient):
    """A message the server does not know gets 1001 under its Rs name."""
    key = await client.login()
    reply = await client.call(key, {"TeleportRq": {"PartNum": "1000-BK"}})
    assert status(reply, "TeleportRs") == (1001, 1001)


async def test_a_payload_that_is_not_json_is_answered_1150_and_the_connection_lives(
    client: RawClient,
):
    """A malformed payload gets a 1150 envelope and the next request is still served."""
    await client.send(b"{not json")
    reply = json.loads(await client.receive())["FbiJson"]
    assert reply["FbiMsgsRs"]["statusCode"] == 1150
    assert await client.login()


async def test_logout_ends_the_ticket(client: RawClient):
    """After LogoutRq the old ticket is answered 1164 (session logged out)."""
    key = await client.login()
    reply = await client.call(key, {"LogoutRq": ""})
    assert status(reply, "LogoutRs") == (1000, 1000)
    reply = await client.call(key, {"InvQtyRq": {"PartNum": "1000-BK"}})
    assert status(reply, "InvQtyRs") == (1164, 1164)


async def test_a_frame_written_byte_by_byte_is_answered(client: RawClient):
    """A frame trickled in one byte per write, with pauses, is reassembled and answered."""
    for byte in login_frame():
        await client.write(bytes([byte]))
        await asyncio.sleep(0.0005)
    reply = json.loads(await client.receive())["FbiJson"]
    assert reply["FbiMsgsRs"]["LoginRs"]["statusCode"] == 1000


async def test_frames_coalesced_in_one_write_get_replies_in_order(
    wms: WmsSandbox, client: RawClient
):
    """Three frames sent in one write get three replies, in request order, one verdict each."""
    before = wms.switch.requests
    await client.write(login_frame() + login_frame(password="bad") + login_frame())
    codes = [
        json.loads(await client.receive())["FbiJson"]["FbiMsgsRs"]["statusCode"] for _ in range(3)
    ]
    assert codes == [1000, 1120, 1000]
    assert wms.switch.requests - before == 3


async def test_the_xml_dialect_with_its_bare_doctype_works(world: World, client: RawClient):
    """FbiXml with <!DOCTYPE FbiXml> logs in and reads stock, answered in XML."""
    prologue = '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE FbiXml>'
    login = (
        f"{prologue}<FbiXml><Ticket><Key></Key></Ticket><FbiMsgsRq><LoginRq><IAID>2222</IAID>"
        "<IAName>Test</IAName><IADescription>t</IADescription><UserName>admin</UserName>"
        "<UserPassword>admin</UserPassword></LoginRq></FbiMsgsRq></FbiXml>"
    )
    await client.send(login.encode())
    reply = ET.fromstring(await client.receive())
    assert reply.find("FbiMsgsRs").get("statusCode") == "1000"
    assert reply.find("FbiMsgsRs/LoginRs").get("statusCode") == "1000"
    key = reply.findtext("Ticket/Key")
    stock = world.stock[0]
    request = (
        f"{prologue}<FbiXml><Ticket><Key>{key}</Key></Ticket><FbiMsgsRq><InvQtyRq>"
        f"<PartNum>{stock.part_num}</PartNum></InvQtyRq></FbiMsgsRq></FbiXml>"
    )
    await client.send(request.encode())
    rows = ET.fromstring(await client.receive()).findall("FbiMsgsRs/InvQtyRs/InvQty")
    by_location = {row.findtext("Location/Name"): row.findtext("QtyOnHand") for row in rows}
    assert by_location[stock.location] == str(stock.qty)


async def test_xml_declaring_an_entity_is_rejected(client: RawClient):
    """A DOCTYPE with an entity declaration is answered 1150 and the entity is never expanded."""
    evil = (
        '<?xml version="1.0"?><!DOCTYPE FbiXml [<!ENTITY who "admin">]><FbiXml><Ticket><Key/>'
        "</Ticket><FbiMsgsRq><LoginRq><IAID>1</IAID><IAName>x</IAName><IADescription>x"
        "</IADescription><UserName>&who;</UserName><UserPassword>admin</UserPassword>"
        "</LoginRq></FbiMsgsRq></FbiXml>"
    )
    await client.send(evil.encode())
    reply = ET.fromstring(await client.receive())
    assert reply.find("FbiMsgsRs").get("statusCode") == "1150"
    assert "entity" in reply.find("FbiMsgsRs").get("statusMessage")
    assert not reply.findtext("Ticket/Key")


async def test_an_idle_ticket_times_out_with_1163_and_relogin_works(
    world: World, clock: FakeClock, client: RawClient
):
    """A ticket unused for longer than the idle limit gets 1163; a fresh login is served."""
    request = {"PartGetRq": {"Number": world.items[0].no}}
    key = await client.login()
    clock.now += IDLE_S - 1
    assert status(await client.call(key, request), "PartGetRs") == (1000, 1000)
    clock.now += IDLE_S - 1  # used in time above: the idle clock restarted there
    assert status(await client.call(key, request), "PartGetRs") == (1000, 1000)
    clock.now += IDLE_S + 1
    assert status(await client.call(key, request), "PartGetRs") == (1163, 1163)
    new_key = await client.login()
    assert status(await client.call(new_key, request), "PartGetRs") == (1000, 1000)


async def test_drop_session_ends_open_tickets_with_1164_but_not_new_logins(
    world: World, wms: WmsSandbox, client: RawClient
):
    """drop_session answers existing tickets 1164 while tickets issued afterwards work."""
    part_num = world.stock[0].part_num
    key = await client.login()
    await wms.switch.set(Fault.parse("drop_session"))
    reply = await client.call(key, {"InvQtyRq": {"PartNum": part_num}})
    assert status(reply, "InvQtyRs") == (1164, 1164)
    assert wms.switch.fault.kind is FaultKind.DROP_SESSION
    new_key = await client.login()
    reply = await client.call(new_key, {"InvQtyRq": {"PartNum": part_num}})
    assert status(reply, "InvQtyRs") == (1000, 1000)


async def test_shipments_are_found_by_id_number_and_order(world: World, client: RawClient):
    """GetShipmentRq by id or number and GetShipListRq by order answer the world's shipment."""
    shipment = next(s for s in world.shipments if s.status == "Shipped" and s.tracking)
    key = await client.login()
    by_id = (await client.call(key, {"GetShipmentRq": {"ShipmentID": shipment.id}}))["FbiMsgsRs"]
    by_num = (await client.call(key, {"GetShipmentRq": {"ShipmentNUM": shipment.number}}))[
        "FbiMsgsRs"
    ]
    assert by_id["GetShipmentRs"]["Shipping"] == by_num["GetShipmentRs"]["Shipping"]
    shipping = by_id["GetShipmentRs"]["Shipping"]
    assert (
        shipping["ShipNum"],
        shipping["OrderNumber"],
        shipping["Carrier"],
        shipping["Status"],
    ) == (
        shipment.number,
        shipment.order_no,
        shipment.carrier,
        30,
    )
    assert shipping["DateShipped"] == shipment.date_shipped.strftime("%Y-%m-%dT%H:%M:%S")
    carton = shipping["Cartons"]["Carton"][0]
    assert carton["TrackingNum"] == shipment.tracking
    lines = [(i["ProductNumber"], i["QtyShipped"]) for i in carton["ShippingItems"]["ShippingItem"]]
    assert lines == shipment.items
    listed = (await client.call(key, {"GetShipListRq": {"OrderNumber": shipment.order_no}}))[
        "FbiMsgsRs"
    ]
    assert [s["ID"] for s in listed["GetShipListRs"]["Shipping"]] == [
        s.id for s in world.shipments if s.order_no == shipment.order_no
    ]
    missing = await client.call(key, {"GetShipmentRq": {"ShipmentNUM": "S99999"}})
    assert status(missing, "GetShipmentRs") == (5201, 5201)


async def test_ship_marks_a_shipment_shipped_and_takes_its_stock(world: World, client: RawClient):
    """ShipRq moves an open shipment to Shipped with a date and removes its committed stock."""
    shipment = next(s for s in world.shipments if s.status in {"Entered", "Packed"})
    part_num = next(
        num for num, _ in shipment.items if sum(s.qty for s in world.stock if s.part_num == num) > 0
    )
    key = await client.login()

    async def totals() -> tuple[int, int]:
        rows = (await client.call(key, {"InvQtyRq": {"PartNum": part_num}}))["FbiMsgsRs"][
            "InvQtyRs"
        ]["InvQty"]
        return sum(r["QtyOnHand"] for r in rows), sum(r["QtyCommitted"] for r in rows)

    on_hand, committed = await totals()
    reply = await client.call(
        key, {"ShipRq": {"ShipNum": shipment.number, "ShipDate": "2026-02-01"}}
    )
    assert status(reply, "ShipRs") == (1000, 1000)
    shipped = reply["FbiMsgsRs"]["ShipRs"]["Shipping"][0]
    assert (shipped["Status"], shipped["DateShipped"]) == (30, "2026-02-01T00:00:00")
    on_hand_after, committed_after = await totals()
    assert on_hand - on_hand_after == committed - committed_after > 0
    again = await client.call(key, {"ShipRq": {"ShipNum": shipment.number}})
    assert status(again, "ShipRs") == (5202, 5202)


async def test_execute_query_returns_csv_rows(world: World, client: RawClient):
    """ExecuteQueryRq answers a header row and the matching row as CSV lines."""
    item = world.items[0]
    key = await client.login()
    query = f"SELECT num, description FROM part WHERE num = '{item.no}'"
    reply = await client.call(key, {"ExecuteQueryRq": {"Query": query}})
    rows = list(csv.reader(reply["FbiMsgsRs"]["ExecuteQueryRs"]["Rows"]["Row"]))
    assert rows == [["num", "description"], [item.no, item.description]]
    bad = await client.call(key, {"ExecuteQueryRq": {"Query": "DROP TABLE part"}})
    assert status(bad, "ExecuteQueryRs") == (1004, 1004)


@pytest.mark.parametrize("header", [struct.pack(">i", 2 * 1_048_576), struct.pack(">i", -5)])
async def test_an_oversize_or_negative_frame_closes_the_connection(
    client: RawClient, header: bytes
):
    """A declared length above the limit, or below zero, makes the server hang up."""
    await client.write(header + b"{}")
    assert await client.closed_by_peer()


async def test_down_refuses_connections_drops_open_ones_and_reset_restores(
    world: World, wms: WmsSandbox, client: RawClient
):
    """down: new connections are refused and open ones closed; reset serves on the same port."""
    key = await client.login()
    await wms.switch.set(Fault.parse("down"))
    assert await client.closed_by_peer()
    with pytest.raises(ConnectionRefusedError):
        await RawClient.connect(wms.port)
    await wms.switch.set(Fault.parse("reset"))
    again = await RawClient.connect(wms.port)
    try:
        reply = await again.call(key, {"PartGetRq": {"Number": world.items[0].no}})
        assert status(reply, "PartGetRs") == (1000, 1000)
    finally:
        again.close()


async def test_hang_withholds_the_reply_until_reset(wms: WmsSandbox, client: RawClient):
    """hang: no reply within half a second; after reset the waiting request is answered."""
    await wms.switch.set(Fault.parse("hang"))
    await client.write(login_frame())
    with pytest.raises(TimeoutError):
        await client.receive(within=0.5)
    await wms.switch.set(Fault.parse("reset"))
    assert json.loads(await client.receive())["FbiJson"]["FbiMsgsRs"]["statusCode"] == 1000


async def test_slow_delays_every_reply(wms: WmsSandbox, client: RawClient):
    """slow:300 makes a reply take at least 0.3 s."""
    await wms.switch.set(Fault.parse("slow:300"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.login()
    assert loop.time() - started >= 0.3


async def test_error_rate_one_answers_1009_and_reset_restores(wms: WmsSandbox, client: RawClient):
    """error_rate:1 answers 1009 (server shut down) in envelope and message; reset serves again."""
    await wms.switch.set(Fault.parse("error_rate:1"))
    reply = await client.call("", {"LoginRq": login_params()})
    assert status(reply, "LoginRs") == (1009, 1009)
    await wms.switch.set(Fault.parse("reset"))
    assert await client.login()


async def test_garbage_answers_well_framed_unparsable_payloads(wms: WmsSandbox, client: RawClient):
    """garbage: the frame arrives but its payload parses as neither JSON nor XML; reset restores."""
    await wms.switch.set(Fault.parse("garbage"))
    await client.write(login_frame())
    payload = await client.receive()
    with pytest.raises((UnicodeDecodeError, json.JSONDecodeError)):
        json.loads(payload)
    await client.send(
        b'<?xml version="1.0"?><!DOCTYPE FbiXml><FbiXml><Ticket><Key/></Ticket>'
        b"<FbiMsgsRq><LoginRq/></FbiMsgsRq></FbiXml>"
    )
    with pytest.raises(ET.ParseError):
        ET.fromstring(await client.receive())
    await wms.switch.set(Fault.parse("reset"))
    assert await client.login()
