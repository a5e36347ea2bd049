"""The OpenAPI 3.1 document of the API, built from the routes of enabled plugins.

Body and response schemas come from the pydantic models (JSON Schema 2020-12, which
OpenAPI 3.1 uses as it is); their ``$defs`` are hoisted into ``components/schemas`` and
every ``$ref`` points there, so two plugins' models of the same name stay apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from core.api.errors import ErrorBody, ValidationErrorBody
from core.api.registry import RegisteredRoute

REF_TEMPLATE = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerToken"

DESCRIPTION = """\
The JSON API of Ruang, for integrations such as the university's academic information
system: push rosters in, pull results out.

Every endpoint except this document needs a personal API token, sent as
`Authorization: Bearer <token>`. Staff create tokens at `/account/tokens` (or with
`ruang tokens create`); each token holds scopes, and each endpoint names the scope it
needs (`x-scope`). Errors are JSON: `{"error": "...", "message": "..."}`; a body that does
not match its schema gets 422 with `errors`, a list of `{field, message}`. An endpoint of a
disabled plugin answers 404 and is left out of this document.
"""


def _schema_pairs(routes: Iterable[RegisteredRoute]
                  ) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (ErrorBody, "serialization"), (ValidationErrorBody, "serialization"),
    ]
    for reg in routes:
        if reg.route.body is not None:
            pairs.append((reg.route.body, "validation"))
        if reg.route.response is not None:
            pairs.append((reg.route.response, "serialization"))
    return list(dict.fromkeys(pairs))


def _error_response(description: str, model: Literal["ErrorBody", "ValidationErrorBody"],
                    refs: Mapping[Any, Any]) -> dict[str, Any]:
    target = ErrorBody if model == "ErrorBody" else ValidationErrorBody
    return {"description": description,
            "content": {"application/json": {"schema": refs[(target, "serialization")]}}}


def _operation(reg: RegisteredRoute, refs: Mapping[Any, Any]) -> dict[str, Any]:
    route = reg.route
    doc = inspect.getdoc(route.handler) or ""
    description = f"Scope: `{route.scope}`."
    if doc:
        description = f"{doc}\n\n{description}"
    op: dict[str, Any] = {
        "operationId": reg.operation_id,
        "summary": route.summary,
        "description": description,
        "tags": [reg.plugin],
        "security": [{SECURITY_SCHEME: [route.scope]}],
        "x-scope": route.scope,
        "x-plugin": reg.plugin,
    }
    if reg.params:
        op["parameters"] = [
            {"name": p.name, "in": "path", "required": True, "schema": p.schema}
            for p in reg.params
        ]
    success: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        success["content"] = {
            "application/json": {"schema": refs[(route.response, "serialization")]}}
    responses: dict[str, Any] = {"200": success,
                                 "401": {"$ref": "#/components/responses/Unauthorized"},
                                 "403": {"$ref": "#/components/responses/Forbidden"},
                                 "404": {"$ref": "#/components/responses/NotFound"}}
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
        responses["400"] = {"$ref": "#/components/responses/InvalidJson"}
        responses["422"] = {"$ref": "#/components/responses/InvalidBody"}
    op["responses"] = dict(sorted(responses.items()))
    return op


def build_document(routes: Iterable[RegisteredRoute], *, version: str,
                   plugin_descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The OpenAPI document for ``routes`` (those of enabled plugins)."""
    routes = list(routes)
    refs, top = models_json_schema(_schema_pairs(routes), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for reg in routes:
        paths.setdefault(reg.openapi_path, {})[reg.route.method.lower()] = _operation(reg, refs)
    descriptions = plugin_descriptions or {}
    tags = [{"name": name, "description": descriptions.get(name, "")}
            for name in sorted({reg.plugin for reg in routes})]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ruang API", "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "tags": tags,
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http", "scheme": "bearer",
                    "description": "A personal API token: ruang_ followed by 43 characters",
                },
            },
            "responses": {
                "Unauthorized": _error_response(
                    "No token, or a token that is unknown, expired or revoked", "ErrorBody",
                    refs),
                "Forbidden": _error_response(
                    "The token lacks the endpoint's scope, or its account is deactivated",
                    "ErrorBody", refs),
                "NotFound": _error_response(
                    "No such object, or the endpoint's plugin is disabled", "ErrorBody", refs),
                "InvalidJson": _error_response("The body is not JSON", "ErrorBody", refs),
                "InvalidBody": _error_response(
                    "The body does not match the schema; errors lists each field",
                    "ValidationErrorBody", refs),
            },
        },
    }
