"""aiohttp's test server, serving an application the way ``veneer serve`` does."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from facade.connection import GatewayRunner


class GatewayTestServer(TestServer):
    """A test server whose connections have the gateway's hit lane (``facade.connection``), so
    repeated reads over one kept-alive connection take the path they take in production."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return GatewayRunner(self.app, **kwargs)
