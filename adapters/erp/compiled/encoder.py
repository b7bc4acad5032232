"""Request envelopes from params, as zeep would build them, without zeep's object model.

zeep turns params into its value objects, validates them while rendering, and renders with
generic code that asks each type what to do. :class:`RequestEncoder` renders the same lxml tree
straight from the compiled fields: the same envelope and namespace map, the same elements in the
same order, the same text (zeep's own conversions, see :mod:`.xsdtypes`), and the same checks
(unknown keys, missing required elements, occurrence bounds, ``None`` where a value is required),
raising zeep's own exception types. After the body, the envelope goes through exactly zeep's
finishing steps (WS-Addressing, plugins, WS-Security, extra HTTP headers), which work on the lxml
tree, so a compiled request differs from zeep's only in how fast it was made.

Values zeep would treat specially (its value objects, ``Nil``/``SkipValue``, ``CDATA``, a list
for a single element, a scalar for a complex one, ``_soapheaders``) raise :class:`Deviation`:
the adapter builds that request with zeep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep import plugins, wsa
from zeep.exceptions import ValidationError
from zeep.xsd.const import xsi_ns

from adapters.erp.compiled.model import UNBOUNDED, Deviation, Field, Struct

__all__ = ["RequestEncoder"]

_XSI_NIL = xsi_ns("nil").text
#: Scalars zeep renders through the type's xmlvalue and nothing else.
_PLAIN = frozenset({str, int, bool, float, Decimal, dt.date, dt.datetime, dt.time, bytes})
_SubElement = etree.SubElement


class RequestEncoder:
    """Builds one document/literal operation's request: HTTP body and headers."""

    def __init__(
        self,
        *,
        body: Field | None,
        envelope_ns: str,
        nsmap: Mapping[str, str],
        http_headers: Mapping[str, str],
        client: Any,
        operation: Any,
        address: str,
    ) -> None:
        self._body = body
        self._envelope_tag = f"{{{envelope_ns}}}Envelope"
        self._body_tag = f"{{{envelope_ns}}}Body"
        self._nsmap = dict(nsmap)
        self._http_headers = dict(http_headers)
        self._client = client
        self._operation = operation
        self._address = address

    def encode(self, params: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The request for ``params``; zeep's exceptions for invalid ones; Deviation to defer."""
        if "_soapheaders" in params:
            raise Deviation("SOAP headers among the params")
        envelope = etree.Element(self._envelope_tag, nsmap=self._nsmap)
        body = _SubElement(envelope, self._body_tag)
        field = self._body
        if field is not None and field.struct is not None:
            node = _SubElement(body, field.tag)
            _render_struct(node, field.struct, params, [field.local])
        envelope, headers = self._finish(envelope, dict(self._http_headers))
        return etree.tostring(envelope, encoding="utf-8", xml_declaration=True), headers

    def _finish(self, envelope: Any, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """zeep's steps after the body (``SoapBinding._create``), on our tree."""
        client, operation = self._client, self._operation
        options = {"address": self._address}  # a fresh dict, as zeep's callers pass
        if operation.abstract.wsa_action:
            envelope, headers = wsa.WsAddressingPlugin().egress(
                envelope, headers, operation, options
            )
        envelope, headers = plugins.apply_egress(client, envelope, headers, operation, options)
        if client.wsse:
            for wsse in client.wsse if isinstance(client.wsse, list) else [client.wsse]:
                envelope, headers = wsse.apply(envelope, headers)
        if client.settings.extra_http_headers:
            headers.update(client.settings.extra_http_headers)
        return envelope, headers


def _render_struct(node: Any, struct: Struct, value: Mapping[str, Any], path: list[str]) -> None:
    names = struct.names
    for key in value:
        if key not in names:
            if key == "_raw_elements":
                raise Deviation("_raw_elements among the params")
            signature = struct.zeep_type.signature(standalone=False)
            raise TypeError(
                f"{struct.zeep_type.qname or 'ComplexType'}() got an unexpected keyword "
                f"argument {key!r}. Signature: `{signature}`"
            )
    for field in struct.fields:
        item = value[field.name] if field.name in value else field.default()
        if item is None and field.optional:
            continue
        _render_field(node, field, item, [*path, field.name])


def _render_field(parent: Any, field: Field, value: Any, path: list[str]) -> None:
    """zeep's ``Element.render``: validate, then render each value."""
    if field.repeats and isinstance(value, list):
        if type(value) is not list:
            raise Deviation("a zeep array value")
        count = len(value)
        if count < field.min_occurs:
            raise ValidationError(
                f"Expected at least {field.min_occurs} items (minOccurs check) "
                f"{count} items found.",
                path=path,
            )
        if field.max_occurs != UNBOUNDED and count > field.max_occurs:
            raise ValidationError(
                f"Expected at most {field.max_occurs} items (maxOccurs check) {count} items found.",
                path=path,
            )
        for item in value:
            _check_item(field, item, path)
        for item in value:
            _render_item(parent, field, item, path)
        return
    if value is None and not field.optional and not field.nillable:
        raise ValidationError(f"Missing element {field.local}", path=path)
    _check_item(field, value, path)
    _render_item(parent, field, value, path)


def _check_item(field: Field, item: Any, path: list[str]) -> None:
    if item is None:
        if field.simple is not None and not field.nillable:
            raise ValidationError(
                f"The element {field.tag} is not valid: Value is required", path=path
            )
        return
    if type(item) in _PLAIN:
        if field.struct is not None:
            raise Deviation("a scalar for a complex element")  # zeep maps it positionally
        return
    if field.struct is not None:
        if not isinstance(item, dict):
            raise Deviation(f"{type(item).__name__} for a complex element")
    elif (
        isinstance(item, etree.CDATA)
        or hasattr(item, "_xsd_type")
        or type(item).__module__.startswith("zeep")  # Nil, SkipValue, AnyObject ...
    ):
        raise Deviation(f"{type(item).__name__} for a simple element")


def _render_item(parent: Any, field: Field, item: Any, path: list[str]) -> None:
    """zeep's ``Element._render_value_item`` for a value that passed :func:`_check_item`."""
    if item is None:
        if field.optional:
            return
        node = _SubElement(parent, field.tag)
        if field.nillable:
            node.set(_XSI_NIL, "true")
        return
    node = _SubElement(parent, field.tag)
    simple = field.simple
    if simple is not None:
        node.text = simple.to_text(item)
    else:
        assert field.struct is not None
        _render_struct(node, field.struct, item, path)
