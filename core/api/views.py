"""The ``api`` blueprint at ``/api/v1``: token checks, body validation, JSON out.

The blueprint is built per app, when the app is created, from the routes every installed
plugin declares (enabled or not: a disabled plugin's routes exist and answer 404, so
enabling it needs no restart). It is exempt from CSRF because it reads no cookies: the
bearer token is the only credential, and a browser never sends it by itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from core.accounts.access import public
from core.api import docs
from core.api.errors import ApiError
from core.api.openapi import build_document
from core.api.registry import ApiRegistry, RegisteredRoute, build_registry
from core.api.tokens import AuthFailure, authenticate, parse_authorization
from core.instance import ruang

log = logging.getLogger(__name__)
PREFIX = "/api/v1"


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    resp = jsonify({"error": code, "message": message, **extra})
    resp.status_code = status
    return resp


def registry() -> ApiRegistry:
    reg: ApiRegistry = current_app.extensions["ruang.api"]
    return reg


def install_api(app: Flask) -> ApiRegistry:
    """Collect every plugin's routes and serve them under ``/api/v1`` on ``app``."""
    host = app.extensions["ruang"].plugins
    reg = build_registry(host.collect_by_plugin("ruang_api_routes", enabled_only=False))
    bp = Blueprint("api", __name__, url_prefix=PREFIX, template_folder="templates")
    for item in reg.routes:
        bp.add_url_rule(item.route.path, endpoint=item.endpoint, view_func=_view(item),
                        methods=[item.route.method])
    bp.add_url_rule("/openapi.json", "openapi", openapi_json)
    bp.add_url_rule("/docs", "docs", docs_page)
    bp.after_request(_no_store)
    bp.register_error_handler(HTTPException, _http_error)
    app.extensions["ruang.csrf"].exempt(bp)
    app.register_blueprint(bp)
    app.extensions["ruang.api"] = reg
    app.extensions["ruang.api.documents"] = {}
    return reg


def _no_store(resp: Response) -> Response:
    if request.endpoint not in ("api.openapi", "api.docs"):
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _http_error(exc: HTTPException) -> Response:
    """``abort(...)`` inside a handler answers in the API's error shape."""
    code = exc.code or 500
    return error(code, exc.name.lower().replace(" ", "_"), str(exc.description or exc.name))


def _view(item: RegisteredRoute) -> Callable[..., Response]:
    def view(**path_params: Any) -> Response:
        return dispatch(item, path_params)

    view.__name__ = item.endpoint
    view.ruang_scope = item.route.scope  # type: ignore[attr-defined]
    # The token, not a signed-in session, is checked here; the route audit sees that.
    view.ruang_permission = None  # type: ignore[attr-defined]
    return view


def _unauthorized(failure: AuthFailure) -> Response:
    resp = error(401, "unauthorized", failure.message)
    challenge = 'Bearer realm="ruang"'
    if failure.reason != "missing":
        challenge += ', error="invalid_token"'
    resp.headers["WWW-Authenticate"] = challenge
    return resp


def dispatch(item: RegisteredRoute, path_params: dict[str, Any]) -> Response:
    """Run one API request through the checks, then the plugin's handler."""
    r = ruang()
    route = item.route
    if not r.plugins.is_enabled(item.plugin):
        return error(404, "not_found", "The requested URL was not found on the server.")
    try:
        secret = parse_authorization(request.headers.get("Authorization"))
        token, user = authenticate(r.db, secret)
    except AuthFailure as failure:
        if failure.reason == "inactive":
            return error(403, "account_inactive", failure.message)
        return _unauthorized(failure)
    if route.scope not in (token.scopes or []):
        resp = error(403, "insufficient_scope",
                     f"this endpoint needs a token with the scope {route.scope!r}; "
                     f"the token has: {', '.join(token.scopes) or 'none'}")
        resp.headers["WWW-Authenticate"] = (
            f'Bearer realm="ruang", error="insufficient_scope", scope="{route.scope}"')
        return resp
    g.api_token = token
    g.api_user = user
    # Flask-Login's cache of the current user: services and audit entries called by the
    # handler see the token's user. Nothing is written to a session cookie.
    g._login_user = user
    kwargs: dict[str, Any] = dict(path_params)
    kwargs["user"] = user
    if route.body is not None:
        parsed = _parse_body(route.body)
        if isinstance(parsed, Response):
            return parsed
        kwargs["body"] = parsed
    try:
        result = route.handler(**kwargs)
    except ApiError as exc:
        return error(exc.status, exc.error, exc.message)
    return _respond(item, result)


def _parse_body(model: type[BaseModel]) -> BaseModel | Response:
    raw = request.get_data(cache=True)
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return error(400, "invalid_json", f"the body is not valid JSON: {exc}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(part) for part in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        return error(422, "invalid_body",
                     f"the body does not match {model.__name__}: "
                     f"{len(problems)} problem{'s' if len(problems) != 1 else ''}",
                     errors=problems)


def _respond(item: RegisteredRoute, result: Any) -> Response:
    status = 200
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int):
        result, status = result
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=204)
    model = item.route.response
    if model is not None and not isinstance(result, model):
        result = model.model_validate(result, from_attributes=True)
    payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    resp = jsonify(payload)
    resp.status_code = status
    return resp


# -- the API's own, public pages -----------------------------------------------------------


def document() -> dict[str, Any]:
    """The OpenAPI document of enabled plugins; rebuilt only when that set changes."""
    host = ruang().plugins
    enabled = frozenset(host.enabled_names())
    cache: dict[frozenset[str], dict[str, Any]] = current_app.extensions["ruang.api.documents"]
    doc = cache.get(enabled)
    if doc is None:
        routes = [item for item in registry().routes if item.plugin in enabled]
        descriptions = {name: info.description for name, info in host.plugins.items()}
        doc = build_document(routes, version=host.get("api").version,
                             plugin_descriptions=descriptions)
        cache.clear()
        cache[enabled] = doc
    return doc


@public
def openapi_json() -> Response:
    return jsonify(document())


@public
def docs_page() -> str:
    """A page for people: every endpoint with its scope, and every schema's fields."""
    doc = document()
    return render_template("api/docs.html", groups=docs.endpoints(doc, PREFIX),
                           schemas=docs.schemas(doc), prefix=PREFIX)
