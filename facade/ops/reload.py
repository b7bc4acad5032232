"""``POST /ops/reload``: reload the configuration file now (what SIGHUP does), as the ops admin.

200 with what changed, or 422 ``config_invalid`` with every issue found while the running
configuration keeps serving. Either way the attempt is audited and logged. Under
``serve --workers N`` an applied reload is passed on to the other workers (``other_workers`` in
the answer says whether they were asked); a rejected one is not.
"""

from __future__ import annotations

from aiohttp import web

from facade.ops.api import Authorize, checked_reason, ops_json, read_object
from facade.problems import Problem
from facade.redaction import redact
from facade.reload import Reloader

__all__ = ["reload_handler"]


def reload_handler(reloader: Reloader, authorize: Authorize) -> web.Handler:  # type: ignore[name-defined]
    async def reload(request: web.Request) -> web.Response:
        actor = await authorize(request, True)
        reason = checked_reason(await read_object(request))
        outcome = await reloader.reload(actor=actor, reason=reason, propagate=True)
        if not outcome.applied:
            raise Problem(
                422,
                "config_invalid",
                "Configuration rejected",
                f"{outcome.source} has {len(outcome.issues)} issue(s); "
                f"generation {outcome.generation} keeps serving.",
                extra=redact({"errors": outcome.issues, "generation": outcome.generation}),
            )
        return ops_json(outcome.as_dict())

    return reload
