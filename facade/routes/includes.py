"""``?include=``: other routes' answers embedded in this one, fetched concurrently.

An include that fails is answered ``null`` and reported under ``unavailable``; the rest of the
answer still goes out. Each included route's scopes are checked like its own requests'.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from facade.problems import Problem
from facade.security.errors import forbidden
from facade.security.principal import Principal

if TYPE_CHECKING:
    from facade.routes.handler import RouteHandler

__all__ = ["add_includes"]


async def add_includes(
    handler: RouteHandler, data: Any, names: list[str], principal: Principal
) -> bool:
    """Embed the named includes; False when a part failed for now (such answers are not cached).

    Each included route's scopes are checked like its own requests': an include the caller
    may not read is reported under ``unavailable`` as ``forbidden``, never fetched.
    """
    if not isinstance(data, dict):
        return True
    results = await asyncio.gather(
        *(_one_include(handler, name, data, principal) for name in names)
    )
    complete = True
    for name, (value, problem) in zip(names, results, strict=True):
        data[name] = value
        if problem is not None:
            complete = complete and problem.status < 500
            data.setdefault("unavailable", {})[name] = {
                "code": problem.code,
                "title": problem.title,
            }
    return complete


async def _one_include(
    handler: RouteHandler, name: str, data: dict[str, Any], principal: Principal
) -> tuple[Any, Problem | None]:
    include = handler.route.include[name]
    target = handler.context.handlers[include.route]
    if handler.context.access is not None:
        access = handler.context.access.for_route(include.route)
        if not access.public and not principal.allows(access.scopes):
            return None, forbidden(principal.missing(access.scopes))
    try:
        produced = await target.produce_from(
            handler.compiled.includes[name].render({"result": data}),
            auth=principal.template_view(),
        )
    except Problem as problem:
        return None, problem
    return produced.data, None
