"""The OpenAPI document is valid 3.1, built from every enabled plugin's routes."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from core.api.registry import RouteError
from core.app import create_app
from core.contracts import ApiRoute
from core.plugins import hookimpl


def _resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_hook_ruang_api_routes(client, make_token):
    """A plugin's ApiRoute is served, scope-checked and documented."""
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/toy/exams/{exam_id}/results"]["get"]
    assert op["x-scope"] == "results:read" and op["tags"] == ["toyapi"]
    resp = client.get("/api/v1/toy/exams/7/results",
                      headers={"Authorization": f"Bearer {make_token('yansi', ['results:read'])}"})
    assert resp.status_code == 200 and resp.get_json()["exam_id"] == 7


def test_document_is_valid_openapi_31(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    doc = resp.get_json()
    validate(doc)  # raises on any error
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http", "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerToken"]["description"]}
    for ref in _refs(doc):
        _resolve(doc, ref)  # every $ref points inside the document
    assert "$defs" not in str(doc)


def test_routes_scopes_parameters_and_schemas(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert {"/me", "/plugins", "/toy/rosters", "/toy/rosters/{code}",
            "/toy/exams/{exam_id}/results"} <= set(paths)
    me = paths["/me"]["get"]
    assert me["x-scope"] == "profile" and "`profile`" in me["description"]
    assert me["security"] == [{"bearerToken": ["profile"]}]

    results = paths["/toy/exams/{exam_id}/results"]["get"]
    assert results["parameters"] == [
        {"name": "exam_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert results["description"].startswith("Scores of every candidate")
    schema = _resolve(doc, results["responses"]["200"]["content"]["application/json"]
                      ["schema"]["$ref"])
    assert set(schema["properties"]) == {"exam_id", "results"}

    push = paths["/toy/rosters"]["post"]
    body_ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    roster = _resolve(doc, body_ref)
    assert roster["required"] == ["course", "students"]
    student = _resolve(doc, roster["properties"]["students"]["items"]["$ref"])
    assert student["properties"]["nim"]["pattern"] == r"^\d{8,12}$"
    assert set(push["responses"]) == {"200", "400", "401", "403", "404", "422"}
    invalid = _resolve(doc, push["responses"]["422"]["$ref"])
    err_schema = _resolve(doc, invalid["content"]["application/json"]["schema"]["$ref"])
    assert "errors" in err_schema["properties"]
    assert paths["/toy/rosters/{code}"]["delete"]["parameters"][0]["schema"] == {
        "type": "string"}
    assert "openapi.json" not in str(list(paths))


def test_disabled_plugin_leaves_the_document(app, client):
    r = app.extensions["ruang"]
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "toyapi", False, actor=None)
    doc = client.get("/api/v1/openapi.json").get_json()
    assert not any(p.startswith("/toy/") for p in doc["paths"])
    assert "toyapi" not in {t["name"] for t in doc["tags"]}
    validate(doc)
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "toyapi", True, actor=None)
    assert "/toy/rosters" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_validator_would_catch_a_broken_document(client):
    """The check above is real: the validator refuses broken documents."""
    import copy

    from referencing.exceptions import Unresolvable

    doc = client.get("/api/v1/openapi.json").get_json()
    dangling = copy.deepcopy(doc)
    dangling["paths"]["/me"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"] = {"$ref": "#/components/schemas/Missing"}
    with pytest.raises(Unresolvable):
        validate(dangling)
    optional_path_param = copy.deepcopy(doc)
    optional_path_param["paths"]["/toy/rosters/{code}"]["delete"]["parameters"][0][
        "required"] = False
    with pytest.raises(OpenAPIValidationError):
        validate(optional_path_param)


def test_docs_page_lists_endpoints_for_people(guest):
    resp = guest.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-path="/api/v1/toy/rosters"' in html and "rosters:write" in html
    assert "nim" in html and "Student" in html
    assert "cdn" not in html.lower()


def _model(name: str, field: str):
    from typing import Any

    from pydantic import create_model

    fields: dict[str, Any] = {field: (int, ...)}
    return create_model(name, **fields)


class _Plugin:
    def __init__(self, name, routes):
        self.RUANG_PLUGIN_NAME = name
        self._routes = routes

    @hookimpl
    def ruang_api_routes(self):
        return self._routes


def _handler(user, **kw):
    return None


def test_same_model_names_in_two_plugins_stay_apart(settings):
    a = _Plugin("alpha", [ApiRoute("/alpha", "POST", _handler, "alpha:write", "A",
                                   body=_model("Item", "a_field"))])
    b = _Plugin("beta", [ApiRoute("/beta", "POST", _handler, "beta:write", "B",
                                  body=_model("Item", "b_field"))])
    app = create_app(settings, extra_plugins=[a, b])
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(doc)
    fields = set()
    for path in ("/alpha", "/beta"):
        ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"][
            "schema"]["$ref"]
        fields |= set(_resolve(doc, ref)["properties"])
    assert fields == {"a_field", "b_field"}
    app.extensions["ruang"].db.dispose()


@pytest.mark.parametrize(("route", "complaint"), [
    (ApiRoute("exams", "GET", _handler, "x:read", "No slash"), "must start with /"),
    (ApiRoute("/e", "GET", _handler, "Bad Scope", "Bad scope"), "not a valid scope"),
    (ApiRoute("/e/<int:exam_id>", "GET", lambda user: None, "x:read", "Arg"),
     "exam_id"),
    (ApiRoute("/e", "POST", lambda user: None, "x:write", "No body arg", body=_model("B", "f")),
     "body"),
    (ApiRoute("/me", "GET", _handler, "x:read", "Taken"), "both declare"),
    (ApiRoute("/openapi.json", "GET", _handler, "x:read", "Reserved"), "API's own"),
    (ApiRoute("/e", "GET", _handler, "x:read", "  "), "summary"),
])
def test_a_broken_route_stops_the_app_with_a_clear_message(settings, route, complaint):
    with pytest.raises(RouteError, match=complaint) as info:
        create_app(settings, extra_plugins=[_Plugin("broken", [route])])
    assert "broken" in str(info.value)
