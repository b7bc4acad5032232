"""The generic XML-RPC adapter through its transport seam: params shapes, faults, health."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from adapters.crm import XmlRpcAdapter, XmlRpcOptions
from adapters.errors import BackendFault, ConnectFailed, InvalidRequest
from adapters.http import HttpReply, RecordedTransport
from tests.unit.adapters.crm.recorded import ENDPOINT, Script, context, fault, result


def adapter(script: Script, ctx: Any = None, **options: Any) -> XmlRpcAdapter:
    return XmlRpcAdapter(ctx or context(), XmlRpcOptions(**options), transport=script.transport)


SIGNATURES = {"pricing.quote": ("sku", "qty", "currency")}


@pytest.mark.parametrize(
    ("params", "sent"),
    [
        ({"args": [1, "two", [3]]}, (1, "two", [3])),
        ({}, ()),
        ({"customer": 7, "open": True}, ({"customer": 7, "open": True},)),
    ],
    ids=["args", "empty", "struct"],
)
async def test_params_without_a_signature(params: dict[str, Any], sent: tuple[Any, ...]) -> None:
    """args go as they are, an empty mapping as no params, any other mapping as one struct."""
    script = Script({"orders.find": [result(True)]})
    await adapter(script).call("orders.find", params)
    url, method, got = script.calls[0]
    assert (url, method, got) == (f"{ENDPOINT}/RPC2", "orders.find", sent)


@pytest.mark.parametrize(
    ("params", "sent"),
    [
        ({"qty": 2, "sku": "A-1"}, ("A-1", 2)),
        ({"sku": "A-1", "currency": "EUR"}, ("A-1", None, "EUR")),
        ({"sku": "A-1", "qty": None}, ("A-1",)),
    ],
    ids=["in-order", "gap-is-nil", "trailing-left-out"],
)
async def test_params_by_signature(params: dict[str, Any], sent: tuple[Any, ...]) -> None:
    """With a signature, named params go positionally in its order."""
    script = Script({"pricing.quote": [result(9.5)]})
    assert await adapter(script, signatures=SIGNATURES).call("pricing.quote", params) == 9.5
    assert script.calls[0][2] == sent


@pytest.mark.parametrize(
    ("operation", "params", "options"),
    [
        ("pricing.quote", {"sku": "A", "colour": "red"}, {"signatures": SIGNATURES}),
        (
            "pricing.quote",
            {"sku": "A", "currency": "EUR"},
            {"signatures": SIGNATURES, "allow_none": False},
        ),
        ("orders.find", {"args": [1], "x": 2}, {}),
        ("orders find", {}, {}),
    ],
    ids=["unknown-name", "gap-without-nil", "args-plus-more", "bad-method-name"],
)
async def test_params_that_cannot_be_sent(
    operation: str, params: dict[str, Any], options: dict[str, Any]
) -> None:
    """Unknown names, a nil without allow_none and bad method names are InvalidRequest, unsent."""
    script = Script()
    with pytest.raises(InvalidRequest):
        await adapter(script, **options).call(operation, params)
    assert script.calls == []


async def test_a_fault_is_backend_fault_with_its_code() -> None:
    """A server's fault is BackendFault carrying faultCode and the last line of faultString."""
    script = Script({"orders.find": [fault(17, "Traceback...\nValueError: no such order")]})
    with pytest.raises(BackendFault) as caught:
        await adapter(script).call("orders.find", {"args": [1]})
    assert caught.value.code == 17 and caught.value.message == "ValueError: no such order"


async def test_path_and_basic_auth() -> None:
    """The path option is appended to the endpoint; username/password become basic auth."""
    seen: list[tuple[str, Any]] = []

    async def handler(verb: str, url: str, body: bytes, headers: Any) -> HttpReply:
        seen.append((url, headers))
        return result(1)

    crm = XmlRpcAdapter(
        context(password="pw", api_key=None),
        XmlRpcOptions(path="/api/xmlrpc"),
        transport=RecordedTransport(handler),
    )
    await crm.call("ping", {})
    url, headers = seen[0]
    assert url == f"{ENDPOINT}/api/xmlrpc"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"admin:pw").decode()
    assert headers["Content-Type"].startswith("text/xml")


async def test_health_counts_any_answer_as_alive() -> None:
    """A fault to system.listMethods still proves the server answers; no answer does not."""
    assert (await adapter(Script({"system.listMethods": [fault(-32601, "no")]})).health()).ok

    async def refused(*_: Any) -> HttpReply:
        raise ConnectFailed("refused", backend="crm")

    down = XmlRpcAdapter(context(), XmlRpcOptions(), transport=RecordedTransport(refused))
    health = await down.health()
    assert not health.ok and "refused" in health.detail


def test_operations_come_from_signatures() -> None:
    """Without signatures the backend is open-ended; with them they are the operations."""
    assert adapter(Script()).operations() is None
    ops = adapter(Script(), signatures=SIGNATURES, read_only=("pricing.quote",)).operations()
    assert ops is not None and ops["pricing.quote"].params == ("sku", "qty", "currency")
    assert ops["pricing.quote"].read_only


def test_options_are_validated() -> None:
    """A relative path or a method name with spaces is refused when options are built."""
    with pytest.raises(ValueError, match="path"):
        XmlRpcOptions(path="RPC2")
    with pytest.raises(ValueError, match="method name"):
        XmlRpcOptions(signatures={"a b": ()})
