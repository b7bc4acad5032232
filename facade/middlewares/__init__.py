"""The gateway's request pipeline: one middleware (:mod:`.pipeline`), one module per stage."""

from facade.middlewares.keys import ACCESS, PRINCIPAL, REQUEST_ID

__all__ = ["ACCESS", "PRINCIPAL", "REQUEST_ID"]
