"""The API's routes, collected from every installed plugin when the app is created.

A route that cannot work (a bad path, a handler that cannot take its arguments, two
plugins claiming the same path) stops the app from starting with a message that names
the plugin: that is found at once by whoever installed it, instead of by an integrator
later.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from core.api.tokens import SCOPE_PATTERN
from core.contracts import ApiRoute

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Paths the API itself serves, without a token.
RESERVED = {("GET", "/openapi.json"), ("GET", "/docs")}

_PARAM = re.compile(
    r"<(?:(?P<conv>[A-Za-z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[A-Za-z_]\w*)>"
)
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
    "string": {"type": "string"},
    "default": {"type": "string"},
}


class RouteError(ValueError):
    """A plugin declared an API route that cannot be served."""


@dataclass(frozen=True)
class PathParam:
    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class RegisteredRoute:
    """A route with the plugin that declared it and the names it is served under."""

    plugin: str
    route: ApiRoute
    operation_id: str
    openapi_path: str
    params: tuple[PathParam, ...]

    @property
    def endpoint(self) -> str:
        return f"route_{self.operation_id}"


@dataclass
class ApiRegistry:
    routes: list[RegisteredRoute]

    def by_scope(self) -> dict[str, list[RegisteredRoute]]:
        out: dict[str, list[RegisteredRoute]] = {}
        for reg in self.routes:
            out.setdefault(reg.route.scope, []).append(reg)
        return dict(sorted(out.items()))

    def known_scopes(self) -> set[str]:
        return {reg.route.scope for reg in self.routes}


def parse_path(path: str) -> tuple[str, tuple[PathParam, ...]]:
    """The OpenAPI form of a Flask rule, ``/exams/<int:exam_id>`` -> ``/exams/{exam_id}``."""
    params: list[PathParam] = []

    def repl(match: re.Match[str]) -> str:
        conv = match.group("conv") or "default"
        schema = dict(_CONVERTER_SCHEMAS.get(conv, {"type": "string"}))
        params.append(PathParam(match.group("name"), schema))
        return "{" + match.group("name") + "}"

    return _PARAM.sub(repl, path), tuple(params)


def _check(plugin: str, route: Any) -> None:
    where = f"API route of plugin {plugin!r}"
    if not isinstance(route, ApiRoute):
        raise RouteError(f"{where}: expected core.contracts.ApiRoute, got {type(route).__name__}")
    where = f"{where} {route.method} {route.path}"
    if route.method not in METHODS:
        raise RouteError(f"{where}: method must be one of {', '.join(METHODS)}")
    if not route.path.startswith("/") or "//" in route.path or "{" in route.path:
        raise RouteError(f"{where}: the path must start with / and use Flask converters "
                         "like <int:exam_id>")
    if not SCOPE_PATTERN.match(route.scope):
        raise RouteError(f"{where}: {route.scope!r} is not a valid scope (like results:read)")
    if not route.summary.strip():
        raise RouteError(f"{where}: a summary is required; it is the endpoint's documentation")
    for label, model in (("body", route.body), ("response", route.response)):
        if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise RouteError(f"{where}: {label} must be a pydantic model class or None")
    if not callable(route.handler):
        raise RouteError(f"{where}: the handler is not callable")
    _, params = parse_path(route.path)
    kwargs: dict[str, Any] = {p.name: None for p in params}
    kwargs["user"] = None
    if route.body is not None:
        kwargs["body"] = None
    try:
        inspect.signature(route.handler).bind(**kwargs)
    except TypeError as exc:
        raise RouteError(f"{where}: the handler must accept the keyword arguments "
                         f"{', '.join(sorted(kwargs))} ({exc})") from None
    except ValueError:  # a builtin without a signature: nothing to check
        pass


def _operation_id(plugin: str, route: ApiRoute, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", f"{plugin}_{getattr(route.handler, '__name__', 'handler')}")
    base = base.strip("_") or "operation"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def build_registry(items: Iterable[tuple[str, Any]]) -> ApiRegistry:
    """Check ``(plugin, route)`` pairs and give each route its names."""
    seen: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    out: list[RegisteredRoute] = []
    for plugin, route in items:
        _check(plugin, route)
        openapi_path, params = parse_path(route.path)
        key = (route.method, re.sub(r"\{[^}]+\}", "{}", openapi_path.rstrip("/") or "/"))
        if (route.method, route.path) in RESERVED:
            raise RouteError(f"plugin {plugin!r}: {route.method} {route.path} is the API's own")
        if key in seen:
            raise RouteError(f"plugins {seen[key]!r} and {plugin!r} both declare "
                             f"{route.method} {route.path}")
        seen[key] = plugin
        out.append(RegisteredRoute(plugin, route, _operation_id(plugin, route, taken),
                                   openapi_path, params))
    out.sort(key=lambda r: (r.openapi_path, METHODS.index(r.route.method)))
    return ApiRegistry(out)
