"""Compile configured routes: templates, validators and references, checked before serving."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Adapter
from adapters.mapping import REQUEST_ROOTS, RESPONSE_ROOTS, MappingError, Template, compile_template
from facade.routes.body import BodyValidator, check_body_schema
from facade.routes.params import RESERVED_QUERY, ParamValidator
from facade.settings import ConfigIssue, Route, Settings
from facade.settings.issues import did_you_mean

__all__ = ["CompiledRoute", "compile_routes"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class CompiledRoute:
    """A configured route, ready to serve."""

    key: str
    method: str
    path: str
    route: Route
    path_params: tuple[str, ...]
    params: ParamValidator
    body: BodyValidator
    request: Template
    response: Template | None
    read_only: bool
    items: Template | None = None
    bookmark: Template | None = None
    etag: Template | None = None
    includes: Mapping[str, Template] = field(default_factory=dict)
    answer_with: Template | None = None
    unwrap: Template | None = None
    #: changes whenever the route or the system behind it does: part of every cache key, so a
    #: reload that reshapes an answer never serves one cached in the old shape
    fingerprint: str = ""


def _fingerprint(route: Route, settings: Settings) -> str:
    backend = settings.backends.get(route.backend)
    system = (backend.kind, backend.endpoint, backend.options) if backend else None
    return hashlib.sha256(repr((route, system)).encode()).hexdigest()[:16]


class _Compiler:
    def __init__(
        self, settings: Settings, converters: Mapping[str, Any], issues: list[ConfigIssue]
    ) -> None:
        self.settings = settings
        self.converters = converters
        self.issues = issues

    def template(
        self, spec: Any, where: tuple[str | int, ...], roots: frozenset[str], as_null: bool
    ) -> Template | None:
        try:
            return compile_template(
                spec, roots=roots, converters=self.converters, missing_as_null=as_null
            )
        except MappingError as exc:
            self.issues.extend(self.settings.issue((*where, *p), m) for p, m in exc.problems)
            return None

    def reference(
        self, text: str, where: tuple[str | int, ...], roots: frozenset[str]
    ) -> Template | None:
        if not isinstance(text, str) or text.split(".", 1)[0] not in roots:
            self.issues.append(
                self.settings.issue(
                    where,
                    f"needs a reference starting with {' or '.join(sorted(roots))}",
                    value=text,
                )
            )
            return None
        return self.template(text, where, roots, as_null=False)

    def route(self, key: str, route: Route, adapter: Adapter | None) -> CompiledRoute | None:
        where: tuple[str | int, ...] = ("routes", key)
        before = len(self.issues)
        method, _, path = key.partition(" ")
        path_params = tuple(_PLACEHOLDER.findall(path))
        known = adapter.operations() if adapter is not None else None
        self._check_declarations(where, route, known, path_params)
        alias = {route.fan_out.as_} if route.fan_out else set()
        request = self.template(
            route.request, (*where, "request"), REQUEST_ROOTS | {"page", "etag"} | alias, False
        )
        response = None
        if route.response is not None:
            item = {"item"} if route.pagination else set()
            response = self.template(
                route.response, (*where, "response"), RESPONSE_ROOTS | item | alias, True
            )
        self._check_path_references(where, path_params, request, response)
        self._check_caller_references(where, route, request)
        refs = self._references(where, route)
        includes = self._includes(where, route)
        answer_with = self._answer_with(where, route)
        if len(self.issues) > before or request is None:
            return None
        reserved = {"fields"} if method == "GET" else set()
        if route.pagination:
            reserved |= {"limit", "cursor"}
        if route.include:
            reserved.add("include")
        operation = known.get(route.operation) if known else None
        return CompiledRoute(
            key=key,
            method=method,
            path=path,
            route=route,
            path_params=path_params,
            params=ParamValidator(route.params, path_params, reserved & RESERVED_QUERY),
            body=BodyValidator(route.body, max_string=self.settings.api.max_string_length),
            request=request,
            response=response,
            read_only=bool(operation.read_only) if operation is not None else method == "GET",
            includes=includes,
            answer_with=answer_with,
            fingerprint=_fingerprint(route, self.settings),
            **refs,
        )

    def _check_declarations(
        self,
        where: tuple[str | int, ...],
        route: Route,
        known: Mapping[str, Any] | None,
        path_params: tuple[str, ...],
    ) -> None:
        if known is not None and route.operation not in known:
            listed = ", ".join(sorted(known)[:12]) + (" ..." if len(known) > 12 else "")
            self.issues.append(
                self.settings.issue(
                    (*where, "operation"),
                    f"backend {route.backend!r} has no operation {route.operation!r}{did_you_mean(route.operation, known)}",
                    expected=f"one of: {listed}",
                )
            )
        for name, param in route.params.items():
            if param.in_ == "path" and name not in path_params:
                self.issues.append(
                    self.settings.issue((*where, "params", name), "not a {parameter} of the path")
                )
        if route.body is not None and (problem := check_body_schema(route.body)):
            self.issues.append(
                self.settings.issue((*where, "body"), f"not a valid JSON Schema: {problem}")
            )

    def _check_path_references(
        self,
        where: tuple[str | int, ...],
        path_params: tuple[str, ...],
        *templates: Template | None,
    ) -> None:
        for template, section in zip(templates, ("request", "response"), strict=True):
            for ref in sorted(template.references if template else ()):
                root, _, rest = ref.partition(".")
                name = rest.split(".", 1)[0]
                if root == "path" and name not in path_params:
                    self.issues.append(
                        self.settings.issue(
                            (*where, section),
                            f"{ref} is not a parameter of this route's path{did_you_mean(name, path_params)}",
                            expected="one of: "
                            + (", ".join(path_params) or "(the path has no {parameters})"),
                        )
                    )

    def _check_caller_references(
        self, where: tuple[str | int, ...], route: Route, request: Template | None
    ) -> None:
        """A public route's answers are cached once for every caller: they cannot depend on one."""
        if not route.public or request is None:
            return
        for ref in sorted(request.references):
            if ref == "auth" or ref.startswith("auth."):
                self.issues.append(
                    self.settings.issue(
                        (*where, "request"),
                        f"{ref} names the caller, but this route is public: its answers are "
                        "shared by every caller",
                        expected="no auth. references, or a route that is not public",
                        value=ref,
                    )
                )

    def _references(self, where: tuple[str | int, ...], route: Route) -> dict[str, Template | None]:
        result_root, item_root = frozenset({"result"}), frozenset({"item"})
        refs: dict[str, Template | None] = {
            "items": None,
            "bookmark": None,
            "etag": None,
            "unwrap": None,
        }
        if route.pagination:
            refs["items"] = self.reference(
                route.pagination.items, (*where, "pagination", "items"), RESPONSE_ROOTS
            )
            if route.pagination.bookmark:
                refs["bookmark"] = self.reference(
                    route.pagination.bookmark, (*where, "pagination", "bookmark"), item_root
                )
        if route.result:
            refs["unwrap"] = self.reference(route.result, (*where, "result"), result_root)
        if route.etag:
            refs["etag"] = self.reference(route.etag, (*where, "etag"), result_root)
        return refs

    def _get_route(self, where: tuple[str | int, ...], key: str) -> bool:
        if key in self.settings.routes and key.startswith("GET "):
            return True
        gets = [k for k in self.settings.routes if k.startswith("GET ")]
        self.issues.append(
            self.settings.issue(
                where, f"not a configured GET route{did_you_mean(key, gets)}", value=key
            )
        )
        return False

    def _includes(self, where: tuple[str | int, ...], route: Route) -> dict[str, Template]:
        includes = {}
        for name, include in route.include.items():
            if self._get_route((*where, "include", name, "route"), include.route):
                params = (*where, "include", name, "params")
                compiled = self.template(dict(include.params), params, frozenset({"result"}), False)
                if compiled is not None:
                    includes[name] = compiled
        return includes

    def _answer_with(self, where: tuple[str | int, ...], route: Route) -> Template | None:
        if route.answer_with is None or not self._get_route(
            (*where, "answer_with", "route"), route.answer_with.route
        ):
            return None
        params = (*where, "answer_with", "params")
        return self.template(
            dict(route.answer_with.params), params, frozenset({"result", "path", "body"}), False
        )


def compile_routes(
    settings: Settings,
    adapters: Mapping[str, Adapter],
    converters: Mapping[str, Any],
    issues: list[ConfigIssue],
) -> dict[str, CompiledRoute]:
    compiler = _Compiler(settings, converters, issues)
    compiled = {}
    for key, route in settings.routes.items():
        result = compiler.route(key, route, adapters.get(route.backend))
        if result is not None:
            compiled[key] = result
    return compiled
