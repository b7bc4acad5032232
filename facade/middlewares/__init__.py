"""The gateway's middlewares, one per module, in the order they wrap a request."""

from facade.middlewares.auth import auth_middleware
from facade.middlewares.compression import compression_middleware
from facade.middlewares.cors import cors_middleware
from facade.middlewares.headers import header_guard_middleware
from facade.middlewares.keys import ACCESS, PRINCIPAL, REQUEST_ID
from facade.middlewares.problems import problem_middleware
from facade.middlewares.ratelimit import rate_limit_middleware
from facade.middlewares.request_id import request_id_middleware

__all__ = [
    "ACCESS",
    "PRINCIPAL",
    "REQUEST_ID",
    "auth_middleware",
    "compression_middleware",
    "cors_middleware",
    "header_guard_middleware",
    "problem_middleware",
    "rate_limit_middleware",
    "request_id_middleware",
]
