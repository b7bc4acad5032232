"""Reload the configuration of a running gateway (SIGHUP or ``POST /ops/reload``).

A reload reads the file again and checks all of it as startup does, including what only the
adapters can find (a WSDL that will not load, an operation it lacks, a mapping that does not
compile). Any issue rejects it: the issues go back to the caller and to the log, and the
generation in service keeps serving, untouched.

A valid configuration is swapped in at once: the runtime's generation, the routes and the
security layer change together, with no await between them. Requests already running finish on
the generation they started on; its adapters close when its last request is done (or after
``drain_s``). Backends that address the same system the same way keep their adapter, their
policy and their breaker state; see ``Runtime.adopt``.

Some settings are bound when the process starts (the listener, the store, logging, CORS and
the body limit). A change to them is reported as ``restart_required`` and applies at the next
restart; everything else in the reload applies now.

Under ``serve --workers N`` each worker holds its own configuration. A reload asked of a worker
(over HTTP or by SIGHUP: ``propagate=True``) is passed on once applied, with the digest of the
file it applied: the worker asks its supervisor to tell every other worker (``ask_other_workers``),
and each of them reads and checks the file itself. One of those that reads other bytes than the
digest says (the file changed in between) passes its own reload on in turn (``passed_on``), so
all of them end on the newest file (``facade.workers``). A rejected file is not passed on:
nothing changed here, and the others would reject it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import structlog

from facade.metrics import Metrics
from facade.redaction import remember_secrets
from facade.runtime import Generation, Runtime
from facade.security.install import Security, build_security
from facade.serving import Served, Serving, Shared
from facade.settings import ConfigError, ConfigIssue, Settings, load_settings
from facade.settings.issues import dotted
from resilience.audit import AuditLog

__all__ = ["RESTART_ONLY", "OtherWorkers", "ReloadOutcome", "Reloader"]

log = structlog.get_logger("veneer.reload")

#: Settings read once at startup, by dotted path.
RESTART_ONLY: tuple[tuple[str, ...], ...] = (
    ("listen",),
    ("store",),
    ("logging",),
    ("cors",),
    ("api", "body_limit"),
)


#: What an applied reload did about the other worker processes: ``asked`` (the supervisor was
#: asked to send them SIGHUP), ``none`` (a single process: there are none), ``unreachable``
#: (the supervisor could not be told; they keep their configuration).
OtherWorkers = Literal["asked", "none", "unreachable"]


def _at(settings: Settings, path: tuple[str, ...]) -> Any:
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    return value


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }


def issue_json(issue: ConfigIssue, file: Path | str | None) -> dict[str, Any]:
    line, column = issue.position or (None, None)
    return {
        "path": dotted(issue.path),
        "message": issue.message,
        "expected": issue.expected,
        "line": line,
        "column": column,
        "detail": issue.render(file),
    }


def _rejected(current: Generation, source: Path, error: ConfigError) -> ReloadOutcome:
    issues = [issue_json(issue, error.file) for issue in error.issues]
    return ReloadOutcome(False, current.number, str(source), issues=issues)


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: applied (with its changes) or rejected (with its issues)."""

    applied: bool
    generation: int
    source: str | None
    previous: int = 0
    changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    restart_required: list[str] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    #: for a reload passed on to the other workers; None when it was not (see ``Reloader.reload``)
    other_workers: OtherWorkers | None = None
    #: SHA-256 (hex) of the file's bytes this reload read
    digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "result": "applied" if self.applied else "rejected",
            "generation": self.generation,
            "source": self.source,
        }
        if self.applied:
            result["digest"] = self.digest
            result["changes"] = self.changes
            result["restart_required"] = self.restart_required
            if self.other_workers is not None:
                result["other_workers"] = self.other_workers
        else:
            result["errors"] = self.issues
        return result


class Reloader:
    """Loads, checks and swaps in configurations, one at a time."""

    def __init__(
        self,
        runtime: Runtime,
        serving: Serving,
        security: Security,
        shared: Shared,
        metrics: Metrics,
        *,
        audit: AuditLog | None = None,
        load: Callable[[Path], Settings] = load_settings,
        drain_s: float = 60.0,
        ask_other_workers: Callable[[str], bool] | None = None,
    ) -> None:
        self.runtime = runtime
        self.serving = serving
        self.security = security
        self.shared = shared
        self.metrics = metrics
        self.audit = audit
        self.load = load
        self.drain_s = drain_s
        #: asks the supervisor to have every other worker reload, given the applied file's
        #: digest; returns whether the request went out. None when this is a single process.
        self.ask_other_workers = ask_other_workers
        self.restart_required: list[str] = []
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()
        self._last_retirement: asyncio.Task[None] | None = None

    async def reload(
        self,
        *,
        actor: str,
        reason: str = "",
        propagate: bool = False,
        passed_on: str | None = None,
    ) -> ReloadOutcome:
        """Reload the file; with ``propagate``, an applied reload is passed on to the other workers.

        ``passed_on`` is the digest of the file another worker applied, for a reload it passed
        on: this one goes further only if it read other bytes (the file changed since).
        """
        async with self._lock:
            outcome = await self._reload()
        if outcome.applied and propagate and outcome.digest != passed_on:
            outcome = replace(outcome, other_workers=self._propagate(outcome.digest or ""))
        self.metrics.reloads.labels("ok" if outcome.applied else "rejected").inc()
        if outcome.applied:
            log.info(
                "configuration reloaded",
                actor=actor,
                reason=reason,
                generation=outcome.generation,
                digest=(outcome.digest or "")[:12],
                changes=outcome.changes,
                restart_required=outcome.restart_required,
                other_workers=outcome.other_workers,
            )
            if outcome.restart_required:
                log.warning(
                    "some changes apply at the next restart", settings=outcome.restart_required
                )
        else:
            log.error(
                "configuration reload rejected: the running configuration keeps serving",
                actor=actor,
                reason=reason,
                generation=outcome.generation,
                errors=[issue["detail"] for issue in outcome.issues],
            )
        if self.audit is not None:
            await self.audit.record(
                actor=actor,
                action="config.reload" if outcome.applied else "config.reload_rejected",
                target=f"config:{outcome.source}",
                reason=reason[:500],
                before=str(outcome.previous or outcome.generation),
                after=str(outcome.generation),
            )
        return outcome

    async def _reload(self) -> ReloadOutcome:
        current = self.runtime.generation
        source = current.settings.source
        if source is None:
            issue = ConfigIssue((), "this gateway was not started from a file: nothing to reload")
            return ReloadOutcome(False, current.number, None, issues=[issue_json(issue, None)])
        try:
            settings = await asyncio.to_thread(self.load, source)
            security = build_security(settings, self.runtime.clock)
        except ConfigError as exc:
            return _rejected(current, source, exc)
        try:
            generation = await self.runtime.prepare(settings)
        except BaseException as exc:
            await security.close()  # its rate limiter may hold a Redis pool
            if isinstance(exc, ConfigError):
                return _rejected(current, source, exc)
            raise
        try:
            served = Served(self.runtime, generation, self.shared, security.table)
        except BaseException:
            await security.close()
            await generation.close_except(current.backends.adapters)
            raise
        backends = _diff(current.settings.backends, settings.backends)
        # Same settings, new adapter: a file it was started from (a WSDL) changed on disk.
        restarted = set(current.settings.backends) & set(settings.backends)
        restarted -= generation.reused_from(current)
        backends["changed"] = sorted({*backends["changed"], *restarted})
        changes = {"backends": backends, "routes": _diff(current.settings.routes, settings.routes)}
        restart = [
            ".".join(path)
            for path in RESTART_ONLY
            if _at(current.settings, path) != _at(settings, path)
        ]
        # The swap: nothing below awaits until every part is in place.
        remember_secrets(settings)
        retired = self.runtime.adopt(generation)
        retired_served = self.serving.swap(served)
        unused = self.security.adopt(
            security, settings_before=retired.settings, settings_after=settings
        )
        self.restart_required = sorted({*self.restart_required, *restart})
        task = asyncio.create_task(
            self._retire(retired_served, retired, generation, unused, self._last_retirement)
        )
        self._last_retirement = task
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
        return ReloadOutcome(
            True,
            generation.number,
            str(source),
            current.number,
            changes,
            restart,
            digest=settings.source_digest,
        )

    def _propagate(self, digest: str) -> OtherWorkers:
        if self.ask_other_workers is None:
            return "none"
        if self.ask_other_workers(digest):
            return "asked"
        log.error(
            "the other workers could not be asked to reload: they keep their configuration "
            "until the supervisor or each of them gets SIGHUP"
        )
        return "unreachable"

    async def _retire(
        self,
        served: Served,
        retired: Generation,
        successor: Generation,
        unused: Security,
        earlier: asyncio.Task[None] | None,
    ) -> None:
        """Close what only the retired generation used, once its last request is done.

        Retirements finish in order: an adapter two generations shared closes only after the
        older one's requests are done too.
        """
        try:
            if not await served.drained(self.drain_s):
                log.warning(
                    "retired configuration still busy: closing its adapters anyway",
                    generation=retired.number,
                    in_flight=served.in_flight,
                )
            if earlier is not None:
                await asyncio.wait({earlier})
        finally:
            await retired.close_except(successor.backends.adapters)
            await unused.close()
            log.info("retired configuration closed", generation=retired.number)

    async def close(self) -> None:
        """At shutdown: stop waiting for retired generations and close them now."""
        tasks = list(self._retiring)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
