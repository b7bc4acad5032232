"""The differential harness: one params or reply, through zeep and through the compiled codecs.

Requests are compared as XML infosets: both envelopes are put in canonical form (W3C C14N 2.0)
with prefixes rewritten in document order (``rewrite_prefixes``), which erases exactly what the
server may not depend on (which prefixes, where namespaces are declared, attribute order, how
characters are escaped) and keeps everything it may (element and attribute names with their
namespaces, order, and every character of text). HTTP headers must be equal.

Replies are compared as plain data with exact types (``Decimal('1.0')`` is not ``Decimal('1')``,
``1`` is not ``True``), errors as the adapter error they become. ``STATS`` counts which path each
case took, so a run shows the compiled path was really exercised.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.base import AdapterContext
from adapters.erp import SoapAdapter, SoapOptions
from adapters.erp.compiled import Deviation
from adapters.erp.envelope import build_request, parse_reply
from adapters.erp.faults import FaultPolicy, translate
from adapters.erp.operations import SoapOperation
from adapters.http import HttpReply, RecordedTransport

from .xsd_strategies import mutate_params, mutate_reply, params_of, value_of

XML = {"Content-Type": "text/xml; charset=utf-8"}
POLICY = FaultPolicy(rules=())
STATS: Counter[str] = Counter()


def quick(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- loading ---------------------------------------------------------------------------------


def load(base: Path, **options: Any) -> dict[str, SoapOperation]:
    context = AdapterContext(
        backend="diff", endpoint="http://legacy.test/ws", connect_timeout=1, read_timeout=1,
        username="WEBUSER", password="s3cret", base_dir=str(base),
    )  # fmt: skip
    adapter = SoapAdapter(context, SoapOptions(**options), transport=RecordedTransport(_unused))
    asyncio.run(adapter.start())
    return adapter._operations


async def _unused(*args: Any) -> HttpReply:
    raise AssertionError("no request is sent")


# -- one case ---------------------------------------------------------------------------------


def zeep_only(op: SoapOperation) -> SoapOperation:
    return dataclasses.replace(op, encoder=None, decoder=None)


def canonical(body: bytes) -> str:
    return etree.canonicalize(body.decode("utf-8"), rewrite_prefixes=True)


def typed(value: Any) -> Any:
    """``value`` with every scalar paired with its exact type and repr."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, repr(value))


def adapter_error(exc: Exception, stage: Any) -> str:
    error = translate(exc, stage=stage, backend="diff", operation="op", policy=POLICY)
    return f"{type(error).__name__}: {error.message}"


def outcome(build: Callable[[Mapping[str, Any]], Any], params: Mapping[str, Any]) -> Any:
    """What ``build`` returns, or the exception it raises (a Deviation propagates)."""
    try:
        return build(params)
    except Deviation:
        raise
    except Exception as exc:
        return exc


def check_request(op: SoapOperation, params: Mapping[str, Any], *, valid: bool) -> str:
    """The compiled encoder builds what zeep builds, or fails where zeep fails; says which path."""
    assert op.encoder is not None
    expected = outcome(lambda p: build_request(zeep_only(op), p), params)
    try:
        ours = outcome(op.encoder.encode, params)
    except Deviation:
        assert not valid, "valid params must stay on the compiled path"
        return _counted("request deferred to zeep")
    if isinstance(ours, Exception):
        assert isinstance(expected, Exception), f"zeep built what we refused: {ours!r}"
        return _counted("request refused by both")
    assert not isinstance(expected, Exception), f"zeep refused what we built: {expected!r}"
    assert canonical(ours[0]) == canonical(expected[0])
    assert ours[1] == expected[1]
    return _counted("request compiled" if valid else "broken request compiled")


def _counted(path: str) -> str:
    STATS[path] += 1
    return path


def render_reply(op: SoapOperation, values: Any) -> bytes:
    """A reply envelope carrying ``values``, written by zeep from the WSDL."""
    output = op.zeep_operation.output
    message = output.serialize(**values) if isinstance(values, dict) else output.serialize(values)
    return etree.tostring(message.content)


def reply_outcome(op: SoapOperation, body: bytes) -> Any:
    try:
        return typed(parse_reply(op, HttpReply(200, body, XML)))
    except Exception as exc:
        return adapter_error(exc, "reply")


def check_reply(op: SoapOperation, body: bytes, *, valid: bool) -> str:
    """The compiled decoder reads what zeep reads; through the adapter, deviant replies too.

    Says which path the reply took.
    """
    assert op.decoder is not None
    expected = reply_outcome(zeep_only(op), body)
    root = etree.fromstring(body)
    try:
        op.decoder.decode(root.find(f"{{{op.envelope_ns}}}Body"))
        path = _counted("reply compiled" if valid else "deviant reply compiled")
    except Deviation:
        assert not valid, "a reply zeep wrote from valid values must stay on the compiled path"
        path = _counted("deviant reply deferred to zeep")
    except Exception:
        assert not valid, "the compiled decoder raised on a valid reply"
        path = "deviant reply refused by the compiled decoder"
    assert reply_outcome(op, body) == expected
    return path


def input_type(op: SoapOperation) -> Any:
    return op.zeep_operation.input.body.type


def output_values(op: SoapOperation) -> st.SearchStrategy[Any]:
    element = op.zeep_operation.output.body
    return value_of(element).filter(lambda v: v is not None or not element.is_optional)


def renderable(op: SoapOperation, values: Any) -> bytes | None:
    try:
        return render_reply(op, values)
    except Exception:  # zeep refuses some generated values (e.g. required None); not our case
        return None


# Each *_match runs hypothesis over one operation and returns how many generated examples were
# compared with zeep (some generated reply values zeep itself cannot write): a test asserts it
# is not zero, so a strategy that stopped producing comparable examples cannot pass unnoticed.


def requests_match(op: SoapOperation, examples: int) -> int:
    compared = 0

    @quick(examples)
    @given(params_of(input_type(op)))
    def check(params: dict[str, Any]) -> None:
        nonlocal compared
        check_request(op, params, valid=True)
        compared += 1

    check()
    return compared


def broken_requests_match(op: SoapOperation, examples: int) -> int:
    compared = 0

    @quick(examples)
    @given(params_of(input_type(op)), st.data())
    def check(params: dict[str, Any], data: st.DataObject) -> None:
        nonlocal compared
        mutate_params(data, params)
        check_request(op, params, valid=False)
        compared += 1

    check()
    return compared


def replies_match(op: SoapOperation, examples: int) -> int:
    compared = 0

    @quick(examples)
    @given(output_values(op))
    def check(values: Any) -> None:
        nonlocal compared
        body = renderable(op, values)
        if body is not None:
            check_reply(op, body, valid=True)
            compared += 1
        STATS["reply values zeep cannot write"] += body is None

    check()
    return compared


def deviant_replies_match(op: SoapOperation, examples: int) -> int:
    compared = 0

    @quick(examples)
    @given(output_values(op), st.data())
    def check(values: Any, data: st.DataObject) -> None:
        nonlocal compared
        body = renderable(op, values)
        if body is None:
            return
        root = etree.fromstring(body)
        mutate_reply(data, root.find(f"{{{op.envelope_ns}}}Body")[0])
        check_reply(op, etree.tostring(root), valid=False)
        compared += 1

    check()
    return compared
