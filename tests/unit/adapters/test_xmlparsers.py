"""Per-thread lxml parsers: reused within a thread, never shared across threads, and a
document that fails to parse leaves nothing behind for the next one."""

from __future__ import annotations

import threading

import pytest
from lxml import etree

from adapters.crm.codec import MalformedReply, decode_reply
from adapters.xmlparsers import per_thread

_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False}


def test_one_parser_per_thread_reused_within_it() -> None:
    """The same thread gets the same parser back; another thread gets its own."""
    parser = per_thread(lambda: etree.XMLParser(**_SAFE))
    here = parser()
    assert parser() is here
    there: list[etree.XMLParser] = []
    worker = threading.Thread(target=lambda: there.append(parser()))
    worker.start()
    worker.join()
    assert there and there[0] is not here


def test_a_failed_parse_leaves_the_parser_fit_for_the_next_document() -> None:
    """After a malformed document, the reused parser parses the next one in full."""
    parser = per_thread(lambda: etree.XMLParser(**_SAFE))
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(b"<a><b></a>", parser())
    root = etree.fromstring(b"<a><b>1</b></a>", parser())
    assert root.findtext("b") == "1"


def test_xml_rpc_replies_decode_alike_around_a_malformed_one() -> None:
    """The CRM codec's reused parser reads a reply the same before and after a malformed one
    (which it refuses, as it did with a parser per reply)."""
    good = (
        b"<?xml version='1.0'?><methodResponse><params><param><value><struct>"
        b"<member><name>id</name><value><int>7</int></value></member>"
        b"</struct></value></param></params></methodResponse>"
    )
    before = decode_reply(good, max_depth=32, max_bytes=1 << 20)
    with pytest.raises(MalformedReply):
        decode_reply(good[:-20], max_depth=32, max_bytes=1 << 20)
    assert decode_reply(good, max_depth=32, max_bytes=1 << 20) == before == {"id": 7}
