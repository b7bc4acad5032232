"""SoapAdapter against a foreign SOAP stack: a spyne 2.14 document/literal service.

spyne's WSGI application runs under ``wsgiref`` in a thread on 127.0.0.1, port 0. Its WSDL is
given as a URL, the one case where the adapter fetches at startup; every operation is then
called through the adapter: integers, strings, arrays, a complex type and faults. The same
service is also served as SOAP 1.2.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from spyne import Application, Array, ComplexModel, Fault, Integer, ServiceBase, Unicode, rpc
from spyne.error import ResourceNotFoundError
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.errors import BackendFault, BackendUnavailable, NotFound

NS = "urn:veneer:spyne"


class Person(ComplexModel):
    __namespace__ = NS
    name = Unicode
    age = Integer
    tags = Array(Unicode)


class Directory(ServiceBase):
    @rpc(Integer, Integer, _returns=Integer)
    def add(ctx, a: int, b: int) -> int:
        return a + b

    @rpc(Array(Integer), _returns=Integer)
    def total(ctx, values: list[int] | None) -> int:
        return sum(values or [])

    @rpc(Unicode, Integer, _returns=Array(Unicode))
    def repeat(ctx, word: str, times: int) -> list[str]:
        return [word] * times

    @rpc(Person, _returns=Person)
    def birthday(ctx, person: Person) -> Person:
        person.age += 1
        person.tags = [*(person.tags or []), "older"]
        return person

    @rpc(Unicode, _returns=Unicode)
    def find(ctx, name: str) -> str:
        raise ResourceNotFoundError(name)

    @rpc(Unicode, _returns=Unicode)
    def refuse(ctx, why: str) -> str:
        raise Fault("Client.Refused", why)

    @rpc(_returns=Unicode)
    def crash(ctx) -> str:
        raise ValueError("the service broke")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


def serve(protocol: type) -> tuple[WSGIServer, threading.Thread]:
    app = Application(
        [Directory], NS, in_protocol=protocol(validator="lxml"), out_protocol=protocol()
    )
    server = make_server("127.0.0.1", 0, WsgiApplication(app), handler_class=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


@pytest.fixture(scope="module", params=[Soap11, Soap12], ids=["soap11", "soap12"])
def spyne_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server, thread = serve(request.param)
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


async def start(url: str, **options: Any) -> SoapAdapter:
    context = AdapterContext(backend="spyne", endpoint=url, connect_timeout=0.5, read_timeout=2)
    adapter = SoapAdapter(context, SoapOptions(wsdl=url + "?wsdl", **options))
    await adapter.start()
    return adapter


@pytest.fixture
async def spyne(spyne_url: str) -> AsyncIterator[SoapAdapter]:
    adapter = await start(spyne_url)
    yield adapter
    await adapter.close()


async def test_wsdl_fetched_at_startup_lists_every_operation(spyne: SoapAdapter) -> None:
    """The WSDL URL is fetched once at start; every spyne method is an operation."""
    ops = spyne.operations() or {}
    assert sorted(ops) == ["add", "birthday", "crash", "find", "refuse", "repeat", "total"]
    assert ops["add"].params == ("a", "b")
    assert ops["find"].read_only
    assert not ops["birthday"].read_only


async def test_integers_and_strings(spyne: SoapAdapter) -> None:
    """Scalar params and results survive the round trip with their types."""
    assert await spyne.call("add", {"a": 40, "b": 2}) == 42


async def test_arrays_in_and_out(spyne: SoapAdapter) -> None:
    """An Array param is a list; an Array result unwraps to a plain list."""
    assert await spyne.call("total", {"values": {"integer": [1, 2, 3, 4]}}) == 10
    assert await spyne.call("repeat", {"word": "ha", "times": 3}) == ["ha", "ha", "ha"]
    assert await spyne.call("repeat", {"word": "ha", "times": 0}) == []


async def test_complex_type_round_trip(spyne: SoapAdapter) -> None:
    """A complex type goes in as a dict and comes back as a plain dict."""
    person = {"name": "Ada", "age": 36, "tags": {"string": ["maths"]}}
    result = await spyne.call("birthday", {"person": person})
    assert result == {"name": "Ada", "age": 37, "tags": {"string": ["maths", "older"]}}
    assert type(result) is dict


async def test_client_fault_is_a_backend_fault(spyne: SoapAdapter) -> None:
    """spyne's Client.* fault is a permanent BackendFault carrying the faultcode."""
    with pytest.raises(BackendFault) as info:
        await spyne.call("refuse", {"why": "no reason"})
    assert type(info.value) is BackendFault
    assert info.value.message == "no reason"
    # SOAP 1.1: soap11env:Client.Refused; SOAP 1.2: soap12env:Sender with the subcode Refused
    assert info.value.code in ("soap11env:Client.Refused", "soap12env:Sender/Refused")


async def test_resource_not_found_is_not_found(spyne: SoapAdapter) -> None:
    """spyne's ResourceNotFoundError matches the built-in 'not found' rule."""
    with pytest.raises(NotFound):
        await spyne.call("find", {"name": "nobody"})


async def test_server_fault_permanent_by_default_transient_by_option(spyne_url: str) -> None:
    """A server-side exception is BackendFault, or BackendUnavailable with the option."""
    for transient, expected in ((False, BackendFault), (True, BackendUnavailable)):
        adapter = await start(spyne_url, transient_server_faults=transient)
        try:
            with pytest.raises(BackendFault if not transient else BackendUnavailable) as info:
                await adapter.call("crash", {})
            assert type(info.value) is expected
        finally:
            await adapter.close()
