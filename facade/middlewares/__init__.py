"""The gateway's middlewares, one per module, in the order they wrap a request."""

from facade.middlewares.keys import REQUEST_ID
from facade.middlewares.problems import problem_middleware
from facade.middlewares.request_id import request_id_middleware

__all__ = ["MIDDLEWARES", "REQUEST_ID", "problem_middleware", "request_id_middleware"]

#: Outermost first: the request id exists before anything can fail, problems render inside it.
MIDDLEWARES = (request_id_middleware, problem_middleware)
