"""Operation elements of a request read into plain arguments for the store.

Children must be in the page namespace (the WSDL's ``elementFormDefault="qualified"``); like NAV,
an element in the wrong namespace counts as absent, so a client that forgets to qualify its
elements is told its parameter is null rather than silently served.
"""

from __future__ import annotations

from lxml import etree

from sandbox.erp.errors import NavFault
from sandbox.erp.order_writes import OrderInput
from sandbox.erp.table import Filter

__all__ = ["Decoder"]

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class Decoder:
    """Reads the operation elements of one page service (``service`` names it in messages)."""

    def __init__(self, service: str, namespace: str) -> None:
        self.service = service
        self._prefix = f"{{{namespace}}}"

    def read_no(self, operation: etree._Element) -> str:
        """Read(No)."""
        return self._required(operation, "No", "Read")

    def read_multiple(self, operation: etree._Element) -> tuple[list[Filter], str | None, int]:
        """ReadMultiple(filter[], bookmarkKey, setSize)."""
        filters: list[Filter] = []
        bookmark: str | None = None
        size_text = ""
        for child in self._children(operation):
            name = child.tag[len(self._prefix) :]
            if name == "filter":
                parts = {
                    part.tag[len(self._prefix) :]: _text(part) for part in self._children(child)
                }
                if "Field" not in parts:
                    raise self._null("Field", "ReadMultiple")
                filters.append((parts["Field"], parts.get("Criteria", "")))
            elif name == "bookmarkKey":
                bookmark = _text(child) or None
            elif name == "setSize":
                size_text = _text(child)
        try:
            size = int(size_text) if size_text.strip() else 0
        except ValueError:
            raise NavFault(
                f'The value "{size_text}" can\'t be evaluated into type Integer.'
            ) from None
        return filters, bookmark, size

    def record(self, operation: etree._Element, page: str, method: str) -> OrderInput:
        """Create(SalesOrder) / Update(SalesOrder): the fields sent, and the lines sent."""
        element = self._child(operation, page)
        if element is None:
            raise self._null(page, method)
        request = OrderInput()
        for child in self._children(element):
            name = child.tag[len(self._prefix) :]
            if name == "SalesLines":
                request.lines = [
                    {part.tag[len(self._prefix) :]: _text(part) for part in self._children(line)}
                    for line in self._children(child)
                ]
            else:
                request.fields[name] = _text(child)
        return request

    def key(self, operation: etree._Element, method: str) -> str:
        """Delete(Key)."""
        return self._required(operation, "Key", method)

    def _children(self, element: etree._Element) -> list[etree._Element]:
        prefix = self._prefix
        return [
            child
            for child in element
            if isinstance(child.tag, str) and child.tag.startswith(prefix)
        ]

    def _child(self, element: etree._Element, name: str) -> etree._Element | None:
        return element.find(self._prefix + name)

    def _required(self, element: etree._Element, name: str, method: str) -> str:
        child = self._child(element, name)
        if child is None or child.get(_XSI_NIL) in {"true", "1"}:
            raise self._null(name, method)
        return _text(child)

    def _null(self, parameter: str, method: str) -> NavFault:
        return NavFault(
            f"Parameter {parameter} in method {method} in service {self.service} is null!"
        )


def _text(element: etree._Element) -> str:
    if element.get(_XSI_NIL) in {"true", "1"}:
        return ""
    return element.text or ""
