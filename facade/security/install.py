"""Compose the security layer from settings and put it on the application.

The request pipeline (``facade.middlewares.pipeline``) consults the :class:`Security` object on
every request: header guard → authentication and scopes → rate limit → the route, every refusal
a problem. JWKS polling starts with the app and stops with it (``cleanup_ctx``: stopped only if
started); so does the Redis pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from facade.redaction import remember_secrets
from facade.security.access import AccessTable
from facade.security.apikeys import ApiKeyRegistry
from facade.security.authenticator import Authenticator
from facade.security.jwks import JwksError, JwksSource
from facade.security.ops import OPS_GUARD, OpsGuard
from facade.security.ratelimits import build_limiter
from facade.security.tokens import JwtVerifier
from facade.settings import ConfigError, Settings
from resilience import Clock, SystemClock
from resilience.ratelimit import RateLimiter

__all__ = ["SECURITY", "Security", "build_security", "check_security", "install_security"]


@dataclass
class Security:
    """The security layer of one application: what the middlewares and handlers consult."""

    table: AccessTable
    authenticator: Authenticator
    limiter: RateLimiter | None
    jwks: JwksSource | None
    guard: OpsGuard

    def adopt(
        self, new: Security, *, settings_before: Settings, settings_after: Settings
    ) -> Security:
        """Take a reloaded configuration's security in place; returns what to close afterwards.

        What did not change is kept: the rate limiter's buckets when ``rate_limit`` is the same,
        the authenticator (and its JWKS polling) when ``auth`` is. The ops guard object stays
        installed and takes the new credentials.
        """
        unused = Security(new.table, new.authenticator, new.limiter, new.jwks, new.guard)
        if settings_before.rate_limit == settings_after.rate_limit:
            unused.limiter, new.limiter = new.limiter, self.limiter
        else:
            unused.limiter = self.limiter
        if settings_before.auth == settings_after.auth:
            unused.jwks, new.jwks = new.jwks, self.jwks
            new.authenticator = self.authenticator
        else:
            unused.jwks = self.jwks
            if new.jwks is not None:
                new.jwks.start()
        self.table, self.authenticator = new.table, new.authenticator
        self.limiter, self.jwks = new.limiter, new.jwks
        self.guard.adopt(new.guard)
        return unused

    async def close(self) -> None:
        if self.jwks is not None:
            await self.jwks.close()
        if self.limiter is not None:
            await self.limiter.close()


SECURITY = web.AppKey("security", Security)


def _jwks(settings: Settings, clock: Clock) -> JwksSource | None:
    config = settings.auth.jwt
    if config is None or not (config.jwks_file or config.jwks_url):
        return None
    file = Path(config.jwks_file) if config.jwks_file else None
    if file is not None and not file.is_absolute():
        file = settings.base_dir / file
    try:
        return JwksSource(
            clock=clock,
            file=file,
            url=config.jwks_url,
            refresh_s=config.jwks_refresh,
            min_interval_s=config.jwks_min_interval,
        )
    except JwksError as exc:
        issue = settings.issue(("auth", "jwt", "jwks_file"), f"unusable JWKS: {exc}")
        raise ConfigError(settings.source or Path("config"), [issue]) from exc


def check_security(settings: Settings) -> None:
    """What `check-config` can find wrong without starting anything: an unusable JWKS file."""
    _jwks(settings, SystemClock())


def build_security(settings: Settings, clock: Clock) -> Security:
    """Everything the middlewares need; a JWKS file that cannot be read is a ConfigError."""
    jwks = _jwks(settings, clock)
    config = settings.auth.jwt
    verifier = JwtVerifier(config, jwks) if config is not None else None
    authenticator = Authenticator(
        jwt=verifier,
        api_keys=ApiKeyRegistry(settings.auth.api_keys.clients),
        api_key_header=settings.auth.api_keys.header,
    )
    return Security(
        table=AccessTable.from_settings(settings),
        authenticator=authenticator,
        limiter=build_limiter(settings.rate_limit, clock),
        jwks=jwks,
        guard=OpsGuard(settings.ops),
    )


def install_security(app: web.Application, settings: Settings, clock: Clock) -> Security:
    """Build the security layer, the ops guard and the secrets to redact; start JWKS polling with
    the app. The pipeline reads the returned object on every request: a reload swaps its parts."""
    remember_secrets(settings)
    security = build_security(settings, clock)
    app[SECURITY] = security
    app[OPS_GUARD] = security.guard

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if security.jwks is not None:
            security.jwks.start()
        yield
        await security.close()

    app.cleanup_ctx.append(lifecycle)
    return security
