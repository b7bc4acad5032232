"""Hostile replies are refused fast, with bounded memory, and without touching the network.

A reply is parsed with no DTD, no entity resolution, no network and libxml2's default limits
(``huge_tree`` off). Each case checks the peak RSS of the process does not grow by more than
50 MB while the reply is read.
"""

from __future__ import annotations

import resource
import socket
from collections.abc import Iterator

import pytest

from adapters.erp import SoapAdapter
from adapters.errors import ProtocolError

from .conftest import SALES_NS, SOAP_ENV, Wire

RSS_BUDGET_KB = 50 * 1024
PAD = "<!--" + "p" * 2048 + "-->"  # pushes a DOCTYPE past the adapter's quick look at the head


def reply_with(value: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prolog}<Soap:Envelope xmlns:Soap="{SOAP_ENV}"><Soap:Body>'
        f'<Read_Result xmlns="{SALES_NS}"><SalesOrder><No>{value}</No></SalesOrder></Read_Result>'
        "</Soap:Body></Soap:Envelope>"
    ).encode()


def billion_laughs(pad: str = "") -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return reply_with("&lol9;", f"{pad}<!DOCTYPE lolz [{''.join(entities)}]>\n")


@pytest.fixture
def canary() -> Iterator[socket.socket]:
    """A listening socket that records whether the parser tried to fetch anything."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected


async def refused(adapter: SoapAdapter, wire: Wire, body: bytes) -> ProtocolError:
    wire.reply(body)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ProtocolError) as info:
        await adapter.call("SalesOrder.Read", {"No": "SO-1"})
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < RSS_BUDGET_KB, f"peak RSS grew by {grown} KB"
    return info.value


async def test_billion_laughs_is_refused(erp: SoapAdapter, wire: Wire) -> None:
    """Nested entity expansion never happens: the DOCTYPE is refused unread."""
    error = await refused(erp, wire, billion_laughs())
    assert "DOCTYPE" in error.message


async def test_billion_laughs_behind_a_long_comment_is_still_refused(
    erp: SoapAdapter, wire: Wire
) -> None:
    """Past the quick look, libxml2's amplification limit and the docinfo check still stop it."""
    error = await refused(erp, wire, billion_laughs(PAD))
    assert "not well-formed" in error.message or "DOCTYPE" in error.message


@pytest.mark.parametrize("pad", ["", PAD])
async def test_external_entity_is_not_resolved(
    erp: SoapAdapter, wire: Wire, pad: str, canary: socket.socket
) -> None:
    """An external entity naming a local file or a URL is refused; nothing is read or fetched."""
    port = canary.getsockname()[1]
    prolog = (
        f'{pad}<!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">'
        f'<!ENTITY u SYSTEM "http://127.0.0.1:{port}/x">]>\n'
    )
    error = await refused(erp, wire, reply_with("&f;&u;", prolog))
    assert "root:" not in str(error)


@pytest.mark.parametrize("pad", ["", PAD])
async def test_external_dtd_is_not_fetched(
    erp: SoapAdapter, wire: Wire, pad: str, canary: socket.socket
) -> None:
    """<!DOCTYPE x SYSTEM "http://..."> is refused without a connection to the DTD's host."""
    port = canary.getsockname()[1]
    prolog = f'{pad}<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n'
    error = await refused(erp, wire, reply_with("SO-1", prolog))
    assert "DOCTYPE" in error.message


async def test_nesting_ten_thousand_deep_is_refused(erp: SoapAdapter, wire: Wire) -> None:
    """libxml2's default depth limit (huge_tree off) stops a 10,000-level reply."""
    deep = "<a>" * 10_000 + "</a>" * 10_000
    body = f'<Soap:Envelope xmlns:Soap="{SOAP_ENV}"><Soap:Body>{deep}</Soap:Body></Soap:Envelope>'
    error = await refused(erp, wire, body.encode())
    assert "depth" in error.message.lower()


async def test_huge_text_node_is_refused(erp: SoapAdapter, wire: Wire) -> None:
    """A single text node over libxml2's 10 MB limit is refused (huge_tree off)."""
    error = await refused(erp, wire, reply_with("A" * (11 * 1024 * 1024)))
    assert "not well-formed" in error.message
