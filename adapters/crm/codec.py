"""XML-RPC bytes: calls marshalled by the standard library, replies parsed defensively.

The standard library's parser is unsafe against a hostile or broken server: it accepts DTDs,
expands internal entities (a "billion laughs" reply is a few hundred bytes that expand into
gigabytes) and nests as deeply as the reply says. Each reply is therefore parsed by a fresh
defusedxml ``DefusedExpatParser`` (DTDs, entity declarations and external references are refused
before anything is expanded), feeding an :class:`~xmlrpc.client.Unmarshaller` that counts element
depth, after the body's size has been checked. The process-wide ``monkey_patch()`` is not used:
it would change ``xmlrpc.client`` for every library in the process.

Values come back as plain data: ``dateTime.iso8601`` as an ISO 8601 string
(``2026-02-01T09:30:00``, without a zone, as the wire has none) and ``base64`` as a base64 string.

That event-driven parse calls Python three times per element. Most replies are plain
methodResponses, which :func:`_decode_plain` reads from an lxml tree (parsed in C, with entities
unresolved, no DTD, no network) in one Python visit per value. It reads only the strict form
(``params/param/value``, one typed child per value, ``array/data``, ``struct/member/name+value``)
and hands anything else (a fault, a comment or CDATA, a namespaced or unknown tag, a value it
cannot read, too deep a nesting) to the reference parse above, so both give the same answer or
the same error: the differential tests in ``tests/unit/adapters/crm/test_fast_decode.py`` hold
them to it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import xmlrpc.client
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from defusedxml.xmlrpc import DefusedExpatParser
from lxml import etree

from adapters.xmlparsers import per_thread

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_TAGS",
    "CannotMarshal",
    "MalformedReply",
    "decode_reply",
    "encode_call",
    "encode_call_reference",
]

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_TAGS = 400_000
_MAX_PARAM_DEPTH = 100
_COMPACT_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2}:\d{2}:\d{2})$")


class MalformedReply(ValueError):
    """The reply is not one well-formed, harmless XML-RPC methodResponse."""


class CannotMarshal(ValueError):
    """The params hold a value XML-RPC cannot carry (None without allow_none, huge ints ...)."""


def encode_call(
    method: str, params: Sequence[Any], *, allow_none: bool, none_as_false: bool = False
) -> bytes:
    """The methodCall document for ``method(*params)``, UTF-8 encoded.

    Params are made plain on the way: any mapping becomes a struct (the standard marshaller
    would send a non-dict mapping's attributes), a list or tuple an array, a Decimal a double.
    ``none_as_false`` sends None as ``False``, which is how Odoo spells "empty".

    The common types are written here in one walk, the same bytes the standard library's
    marshaller writes (:func:`encode_call_reference`, held to it by the differential tests in
    ``tests/unit/adapters/crm/test_fast_encode.py``); any other value is left to that
    marshaller, which writes it or refuses it.
    """
    out = ["<?xml version='1.0'?>\n<methodCall>\n<methodName>", method, "</methodName>\n"]
    write = out.append
    write("<params>\n")
    try:
        for value in params:
            write("<param>\n")
            _write_value(value, write, allow_none, none_as_false, 0)
            write("</param>\n")
        write("</params>\n</methodCall>\n")
        return "".join(out).encode("utf-8")  # a lone surrogate fails here: a ValueError
    except (TypeError, OverflowError, ValueError) as exc:
        raise CannotMarshal(str(exc)) from exc


def encode_call_reference(
    method: str, params: Sequence[Any], *, allow_none: bool, none_as_false: bool = False
) -> bytes:
    """:func:`encode_call` by the standard library's marshaller, after making the params plain."""
    try:
        plain = [_plain(value, none_as_false, 0) for value in params]
        text = xmlrpc.client.dumps(tuple(plain), methodname=method, allow_none=allow_none)
        return text.encode("utf-8")
    except (TypeError, OverflowError, ValueError) as exc:
        raise CannotMarshal(str(exc)) from exc


def _plain(value: Any, none_as_false: bool, depth: int) -> Any:
    if depth > _MAX_PARAM_DEPTH:
        raise CannotMarshal(f"params nest deeper than {_MAX_PARAM_DEPTH} levels")
    if value is None:
        return False if none_as_false else None
    if isinstance(value, str | bytes | bool | int | float | datetime.datetime):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {key: _plain(item, none_as_false, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, none_as_false, depth + 1) for item in value]
    return value  # the marshaller decides (Binary, DateTime) or refuses with a TypeError


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_value(
    value: Any, write: Callable[[str], object], allow_none: bool, none_as_false: bool, depth: int
) -> None:
    """Write ``value`` as the standard marshaller would write ``_plain(value)``."""
    if depth > _MAX_PARAM_DEPTH:
        raise CannotMarshal(f"params nest deeper than {_MAX_PARAM_DEPTH} levels")
    kind = type(value)
    if kind is str:
        write(f"<value><string>{_escape(value)}</string></value>\n")
    elif kind is int:
        if value > xmlrpc.client.MAXINT or value < xmlrpc.client.MININT:
            raise OverflowError("int exceeds XML-RPC limits")
        write(f"<value><int>{value}</int></value>\n")
    elif kind is bool or (value is None and none_as_false):
        write("<value><boolean>1</boolean></value>\n" if value else _FALSE)
    elif kind is float or kind is Decimal:
        write(f"<value><double>{float(value)!r}</double></value>\n")
    elif kind is list or kind is tuple:
        write("<value><array><data>\n")
        for item in value:
            _write_value(item, write, allow_none, none_as_false, depth + 1)
        write("</data></array></value>\n")
    elif kind is dict or isinstance(value, Mapping):
        write("<value><struct>\n")
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("dictionary key must be string")
            write(f"<member>\n<name>{_escape(key)}</name>\n")
            _write_value(item, write, allow_none, none_as_false, depth + 1)
            write("</member>\n")
        write("</struct></value>\n")
    else:  # None without none_as_false, bytes, datetime, Binary ...: the marshaller's call
        marshalled = xmlrpc.client.Marshaller("utf-8", allow_none).dumps(
            (_plain(value, none_as_false, depth),)
        )
        write(marshalled[len(_PARAM_OPEN) : -len(_PARAM_CLOSE)])


_FALSE = "<value><boolean>0</boolean></value>\n"
_PARAM_OPEN = "<params>\n<param>\n"
_PARAM_CLOSE = "</param>\n</params>\n"


def decode_reply(
    body: bytes, *, max_depth: int, max_bytes: int, max_tags: int = DEFAULT_MAX_TAGS
) -> Any:
    """The single value of a methodResponse.

    Raises :class:`xmlrpc.client.Fault` for a fault response and :class:`MalformedReply` for
    anything that is not a well-formed, harmless methodResponse of at most ``max_bytes`` and
    ``max_tags`` tags (each value becomes a Python object several times its size in bytes).
    """
    if len(body) > max_bytes:
        raise MalformedReply(f"reply of {len(body)} bytes exceeds the {max_bytes}-byte cap")
    if body.count(b"<") > max_tags:
        raise MalformedReply(f"reply has more than {max_tags} XML tags")
    try:
        return _decode_plain(body, max_depth)
    except _NotPlain:
        return decode_reply_reference(body, max_depth=max_depth)


def decode_reply_reference(body: bytes, *, max_depth: int) -> Any:
    """:func:`decode_reply` by the standard library's unmarshaller, on any reply (no size checks)."""
    target = _BoundedUnmarshaller(max_depth)
    parser = DefusedExpatParser(target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(body)
        parser.close()
        values = target.close()
    except xmlrpc.client.Fault:
        raise
    except MalformedReply:
        raise
    except Exception as exc:  # expat, defusedxml, and the unmarshaller's own int()/float() errors
        raise MalformedReply(f"{type(exc).__name__}: {exc}") from exc
    if len(values) != 1:
        raise MalformedReply(f"a methodResponse carries one value, this one {len(values)}")
    return values[0]


class _BoundedUnmarshaller(xmlrpc.client.Unmarshaller):
    """The standard unmarshaller, refusing nesting deeper than ``max_depth``; dates, base64 as str."""

    dispatch: dict[str, Any] = dict(xmlrpc.client.Unmarshaller.dispatch)

    def __init__(self, max_depth: int) -> None:
        super().__init__(use_datetime=False, use_builtin_types=False)
        self._depth = 0
        self._max_depth = max_depth

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth > self._max_depth:
            raise MalformedReply(f"reply nests deeper than {self._max_depth} elements")
        super().start(tag, attrs)

    def end(self, tag: str) -> None:
        self._depth -= 1
        super().end(tag)

    def end_dateTime(self, data: str) -> None:
        text = data.strip()
        match = _COMPACT_DATETIME.match(text)
        self.append(f"{match[1]}-{match[2]}-{match[3]}T{match[4]}" if match else text)

    def end_base64(self, data: str) -> None:
        try:
            raw = base64.b64decode(data.encode("ascii"), validate=False)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise MalformedReply(f"bad base64 value: {exc}") from exc
        self.append(base64.b64encode(raw).decode("ascii"))
        self._value = False

    dispatch["dateTime.iso8601"] = end_dateTime
    dispatch["base64"] = end_base64


# -- the fast path ------------------------------------------------------------------------------


class _NotPlain(Exception):
    """Not the strict, common form: let the reference parse decide what it is."""


def _make_lxml_parser() -> etree.XMLParser:
    # One per thread: lxml parsers are not thread-safe.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_lxml_parser = per_thread(_make_lxml_parser)


def _decode_plain(body: bytes, max_depth: int) -> Any:
    if b"<!" in body:  # a DOCTYPE, a comment or CDATA: the reference parse's business
        raise _NotPlain
    try:
        root = etree.fromstring(body, _lxml_parser())
    except etree.XMLSyntaxError as exc:
        raise _NotPlain from exc
    if root.tag != "methodResponse" or len(root) != 1:
        raise _NotPlain
    params = root[0]
    if params.tag != "params" or len(params) != 1:
        raise _NotPlain
    param = params[0]
    if param.tag != "param" or len(param) != 1:
        raise _NotPlain
    value = param[0]
    if value.tag != "value":
        raise _NotPlain
    try:
        return _plain_value(value, max_depth - 4)  # methodResponse, params, param, value
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise _NotPlain from exc


def _plain_value(value: Any, depth_left: int) -> Any:
    """One ``<value>`` (already counted against the depth) as the unmarshaller reads it."""
    if depth_left < 0:
        raise _NotPlain
    if len(value) == 0:
        return value.text or ""
    if len(value) != 1:
        raise _NotPlain
    typed = value[0]
    tag = typed.tag
    reader = _SCALARS.get(tag)
    if reader is not None:
        if len(typed) or depth_left < 1:
            raise _NotPlain
        return reader(typed.text)
    if depth_left < 2:  # the array's data, or the struct's member, is one more level
        raise _NotPlain
    if tag == "struct":
        result: dict[str, Any] = {}
        for member in typed:
            if member.tag != "member" or len(member) != 2:
                raise _NotPlain
            name, item = member
            if name.tag != "name" or item.tag != "value" or len(name):
                raise _NotPlain
            result[name.text or ""] = _plain_value(item, depth_left - 3)
        return result
    if tag == "array":
        if len(typed) != 1 or typed[0].tag != "data":
            raise _NotPlain
        items = []
        for item in typed[0]:
            if item.tag != "value":
                raise _NotPlain
            items.append(_plain_value(item, depth_left - 3))
        return items
    raise _NotPlain  # a namespaced or unknown type, or a comment's stand-in


def _string(text: str | None) -> str:
    return text or ""


def _integer(text: str | None) -> int:
    if text is None:
        raise _NotPlain
    return int(text)


def _double(text: str | None) -> float:
    if text is None:
        raise _NotPlain
    return float(text)


def _bigdecimal(text: str | None) -> Decimal:
    if text is None:
        raise _NotPlain
    return Decimal(text)


def _boolean(text: str | None) -> bool:
    if text == "0":
        return False
    if text == "1":
        return True
    raise _NotPlain


def _nil(text: str | None) -> None:
    if text is not None:
        raise _NotPlain


def _date_time(text: str | None) -> str:
    stripped = (text or "").strip()
    match = _COMPACT_DATETIME.match(stripped)
    return f"{match[1]}-{match[2]}-{match[3]}T{match[4]}" if match else stripped


def _base64(text: str | None) -> str:
    try:
        raw = base64.b64decode((text or "").encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise _NotPlain from exc
    return base64.b64encode(raw).decode("ascii")


_SCALARS: dict[str, Any] = {
    "string": _string,
    "int": _integer,
    "i1": _integer,
    "i2": _integer,
    "i4": _integer,
    "i8": _integer,
    "biginteger": _integer,
    "double": _double,
    "float": _double,
    "bigdecimal": _bigdecimal,
    "boolean": _boolean,
    "nil": _nil,
    "dateTime.iso8601": _date_time,
    "base64": _base64,
}
