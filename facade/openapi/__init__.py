"""The OpenAPI 3.1 document of the configured API, and the offline docs page that renders it."""

from facade.openapi.builder import build_openapi

__all__ = ["build_openapi"]
