"""The human-readable API page, read from the OpenAPI document so the two never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: bool
    description: str
    ref: str  # the schema the type links to, or ""


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
    response: str


@dataclass(frozen=True)
class SchemaDoc:
    name: str
    description: str
    fields: tuple[FieldRow, ...]


def _ref_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else ""


def type_label(schema: dict[str, Any]) -> str:
    """A short type name for a JSON schema: ``integer``, ``list of Score``, ``string | null``."""
    if "$ref" in schema:
        return _ref_name(schema)
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
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_label(schema['additionalProperties'])}"
    if isinstance(kind, str):
        fmt = schema.get("format")
        return f"{kind} ({fmt})" if fmt else kind
    return "any"


def _first_ref(schema: Any) -> str:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _ref_name(schema)
        for value in schema.values():
            found = _first_ref(value)
            if found:
                return found
    elif isinstance(schema, list):
        for value in schema:
            found = _first_ref(value)
            if found:
                return found
    return ""


def _constraints(prop: dict[str, Any]) -> str:
    words = []
    for key, label in (("minLength", "min length"), ("maxLength", "max length"),
                       ("minimum", "≥"), ("maximum", "≤"), ("minItems", "at least"),
                       ("maxItems", "at most"), ("pattern", "pattern")):
        if key in prop:
            words.append(f"{label} {prop[key]}")
    return ", ".join(words)


def schema_doc(name: str, schema: dict[str, Any]) -> SchemaDoc:
    required = set(schema.get("required", ()))
    rows = []
    for field, prop in schema.get("properties", {}).items():
        text = str(prop.get("description", ""))
        limits = _constraints(prop)
        if limits:
            text = f"{text} ({limits})" if text else limits
        rows.append(FieldRow(field, type_label(prop), field in required, text,
                             _first_ref(prop)))
    return SchemaDoc(name, str(schema.get("description", "")), tuple(rows))


def _content_ref(node: dict[str, Any] | None) -> str:
    if not node:
        return ""
    return _ref_name(node.get("content", {}).get("application/json", {}).get("schema", {}))


def endpoints(doc: dict[str, Any], prefix: str) -> dict[str, list[Endpoint]]:
    """The document's operations grouped by plugin (tag), in path order."""
    groups: dict[str, list[Endpoint]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in METHOD_ORDER:
            op = item.get(method)
            if op is None:
                continue
            description = op.get("description", "").split("\n\nScope:")[0]
            if description.startswith("Scope:"):
                description = ""
            params = tuple((p["name"], type_label(p.get("schema", {})))
                           for p in op.get("parameters", ()))
            groups.setdefault(op["tags"][0], []).append(Endpoint(
                method=method.upper(), path=prefix + path, scope=op.get("x-scope", ""),
                summary=op.get("summary", ""), description=description,
                operation_id=op["operationId"], params=params,
                body=_content_ref(op.get("requestBody")),
                response=_content_ref(op.get("responses", {}).get("200")),
            ))
    return dict(sorted(groups.items()))


def schemas(doc: dict[str, Any]) -> list[SchemaDoc]:
    found = doc.get("components", {}).get("schemas", {})
    return [schema_doc(name, schema) for name, schema in sorted(found.items())]
