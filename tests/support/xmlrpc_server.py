"""The standard library's XML-RPC server in a thread: a foreign stack for tests to call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from xmlrpc.server import SimpleXMLRPCServer

__all__ = ["stdlib_xmlrpc_server"]


@contextmanager
def stdlib_xmlrpc_server(
    functions: Mapping[str, Callable[..., Any]],
    *,
    introspection: bool = False,
    use_builtin_types: bool = False,
) -> Iterator[str]:
    """Serve ``functions`` (name → callable) on a free port; yields the server's URL."""
    server = SimpleXMLRPCServer(
        ("127.0.0.1", 0), logRequests=False, allow_none=True, use_builtin_types=use_builtin_types
    )
    for name, function in functions.items():
        server.register_function(function, name)
    if introspection:
        server.register_introspection_functions()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
