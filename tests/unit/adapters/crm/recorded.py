"""Recorded XML-RPC bytes (from the CRM sandbox, which answers as Odoo 17 does) and a scripted server.

:class:`Script` answers each POST from the replies queued for its method name, and keeps every
request it saw decoded, so tests can assert both what was sent and how often.
"""

from __future__ import annotations

import asyncio
import xmlrpc.client
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

from adapters.base import AdapterContext
from adapters.http import HttpReply, RecordedTransport

ENDPOINT = "http://crm.test:8069"
COMMON = f"{ENDPOINT}/xmlrpc/2/common"
OBJECT = f"{ENDPOINT}/xmlrpc/2/object"
API_KEY = "sandbox-api-key-0001"

# A fault 1 exactly as the sandbox sends it for a domain on an unknown field (abridged frames).
FAULT_1_TRACEBACK = b"""<?xml version='1.0'?>
<methodResponse>
<fault>
<value><struct>
<member>
<name>faultCode</name>
<value><int>1</int></value>
</member>
<member>
<name>faultString</name>
<value><string>Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/odoo/addons/base/controllers/rpc.py", line 164, in xmlrpc_2
    response = self._xmlrpc(service)
  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 39, in dispatch
    res = execute_kw(db, uid, *params[3:])
  File "/usr/lib/python3/dist-packages/odoo/api.py", line 461, in call_kw
    result = _call_kw_multi(method, model, args, kwargs)
ValueError: Invalid field res.partner.shoe_size in leaf ('shoe_size', '=', 42)
</string></value>
</member>
</struct></value>
</fault>
</methodResponse>
"""

# search_read of partner 7 with a many2one, a zone-less datetime and a False.
PARTNER_7 = b"""<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><array><data>
<value><struct>
<member>
<name>id</name>
<value><int>7</int></value>
</member>
<member>
<name>name</name>
<value><string>Coho Logistics</string></value>
</member>
<member>
<name>country_id</name>
<value><array><data>
<value><int>57</int></value>
<value><string>Germany</string></value>
</data></array></value>
</member>
<member>
<name>create_date</name>
<value><string>2024-09-10 18:18:28</string></value>
</member>
<member>
<name>phone</name>
<value><boolean>0</boolean></value>
</member>
</struct></value>
</data></array></value>
</param>
</params>
</methodResponse>
"""

# nginx in front of Odoo when the workers are gone (the sandbox's error_rate fault).
BAD_GATEWAY = HttpReply(
    502, b"<html><head><title>502 Bad Gateway</title></head></html>", {"Server": "nginx"}
)


def result(value: Any) -> HttpReply:
    return HttpReply(200, xmlrpc.client.dumps((value,), methodresponse=True).encode())


def fault(code: Any, text: str = "") -> HttpReply:
    return HttpReply(200, xmlrpc.client.dumps(xmlrpc.client.Fault(code, text)).encode())


def context(**overrides: Any) -> AdapterContext:
    values: dict[str, Any] = {
        "backend": "crm",
        "endpoint": ENDPOINT,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "username": "admin",
        "api_key": API_KEY,
    }
    return AdapterContext(**(values | overrides))


Answer = HttpReply | Callable[[tuple[Any, ...]], HttpReply]


class Script:
    """A fake XML-RPC server: queued answers per method name, the last one repeating."""

    def __init__(self, answers: Mapping[str, list[Answer]] | None = None) -> None:
        self.answers: dict[str, deque[Answer]] = defaultdict(deque)
        for method, queue in (answers or {}).items():
            self.answers[method].extend(queue)
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self.gates: dict[str, asyncio.Event] = {}  # a method's requests wait for its event
        self.transport = RecordedTransport(self._handle)

    def count(self, method: str) -> int:
        return sum(1 for _, name, _ in self.calls if name == method)

    def last(self, method: str) -> tuple[Any, ...]:
        return [params for _, name, params in self.calls if name == method][-1]

    async def until(self, method: str, count: int) -> None:
        """Let other tasks run until ``count`` requests for ``method`` arrived (no real sleep)."""
        for _ in range(1000):
            if self.count(method) >= count:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"only {self.count(method)} {method} requests arrived")

    async def _handle(
        self, verb: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpReply:
        params, name = xmlrpc.client.loads(body)
        method = str(name)
        self.calls.append((url, method, tuple(params)))
        if method in self.gates:
            await self.gates[method].wait()
        queue = self.answers[method]
        if not queue:
            raise AssertionError(f"no answer scripted for {method}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        return answer(params) if callable(answer) else answer
