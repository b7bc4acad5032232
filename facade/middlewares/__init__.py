"""The gateway's middlewares, one per module, in the order they wrap a request."""

from facade.middlewares.compression import compression_middleware
from facade.middlewares.cors import cors_middleware
from facade.middlewares.keys import REQUEST_ID
from facade.middlewares.problems import problem_middleware
from facade.middlewares.request_id import request_id_middleware

__all__ = [
    "REQUEST_ID",
    "compression_middleware",
    "cors_middleware",
    "problem_middleware",
    "request_id_middleware",
]
