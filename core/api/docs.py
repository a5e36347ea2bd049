"""What the human-readable API page shows of each endpoint: fields in a table, not JSON."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from core.api.registry import RegisteredRoute


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str
    summary: str
    description: str
    operation_id: str
    params: tuple[tuple[str, str], ...]
    body: str
    body_fields: tuple[FieldRow, ...]
    response: str
    response_fields: tuple[FieldRow, ...]


def type_label(schema: dict[str, Any]) -> str:
    """A short type name for a JSON schema: ``integer``, ``list of Result``, ``string | null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(type_label(s) for s in schema[key])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_label(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {type_label(extra) if isinstance(extra, dict) else 'any'}"
    if isinstance(kind, str):
        fmt = schema.get("format")
        return f"{kind} ({fmt})" if fmt else kind
    return "any"


def field_rows(model: type[BaseModel] | None, mode: str) -> tuple[FieldRow, ...]:
    if model is None:
        return ()
    schema = model.model_json_schema(mode="validation" if mode == "validation"
                                     else "serialization")
    required = set(schema.get("required", ()))
    return tuple(
        FieldRow(name, type_label(prop), name in required, str(prop.get("description", "")))
        for name, prop in schema.get("properties", {}).items()
    )


def describe(item: RegisteredRoute, prefix: str) -> Endpoint:
    route = item.route
    return Endpoint(
        method=route.method,
        path=prefix + item.openapi_path,
        scope=route.scope,
        summary=route.summary,
        description=inspect.getdoc(route.handler) or "",
        operation_id=item.operation_id,
        params=tuple((p.name, str(p.schema.get("type", "string"))) for p in item.params),
        body=route.body.__name__ if route.body else "",
        body_fields=field_rows(route.body, "validation"),
        response=route.response.__name__ if route.response else "",
        response_fields=field_rows(route.response, "serialization"),
    )
