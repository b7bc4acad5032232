"""A page's WSDL, read once at start-up and served with the address the server really has.

NAV writes its own public URL into ``soap:address``; the sandbox listens on whatever port it was
given (often an ephemeral one), so the address is swapped for the real one. The document is split
around the address once, and the rendered bytes are kept per address: serving it is a dict lookup.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

__all__ = ["WsdlDocument"]

_ADDRESS = re.compile(rb'(<(?:[\w.-]+:)?address\b[^>]*?\blocation=")([^"]*)(")')


class WsdlDocument:
    def __init__(self, path: Path) -> None:
        text = path.read_bytes()
        # Checked once here so a broken WSDL stops the server at start-up, not a client later.
        etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True))
        match = _ADDRESS.search(text)
        if match is None:
            raise ValueError(f"{path} has no soap:address location to point at the server")
        self.path = path
        self._head, self._tail = text[: match.end(1)], text[match.start(3) :]
        self._rendered: dict[str, bytes] = {}

    def render(self, location: str) -> bytes:
        """The WSDL with ``soap:address location`` set to ``location``."""
        rendered = self._rendered.get(location)
        if rendered is None:
            rendered = self._head + location.replace("&", "&amp;").encode() + self._tail
            self._rendered[location] = rendered
        return rendered
