"""Requests to /api/v1 as an integration makes them: token, scope, body, plugin state."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from core.accounts.models import User
from core.api import tokens
from core.audit.models import AuditEntry
from core.db import utcnow
from tests.core.api.conftest import bearer

ROSTER = {"course": "IF101", "students": [{"nim": "20230001", "name": "Ani"},
                                         {"nim": "20230002", "name": "Budi"}]}


def test_me_answers_with_the_token_owner(client, make_token):
    secret = make_token("yansi", ["profile"], days=30)
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["username"] == "yansi" and body["role"] == "staff"
    assert body["token"]["scopes"] == ["profile"]
    assert body["token"]["prefix"] == secret[:14]
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers


def test_no_token_or_a_bad_one_is_401(client, make_token):
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer ruang_not-a-real-token",
                   "Bearer nonsense", "Token " + make_token()):
        resp = client.get("/api/v1/me", headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert set(resp.get_json()) == {"error", "message"}


def test_a_signed_in_browser_session_is_not_a_token(login):
    staff = login("yansi")
    assert staff.get("/api/v1/me").status_code == 401


def test_wrong_scope_is_403_and_names_the_scope(client, make_token):
    secret = make_token("yansi", ["profile"])
    resp = client.get("/api/v1/plugins", headers=bearer(secret))
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["error"] == "insufficient_scope" and "plugins:read" in body["message"]
    assert 'scope="plugins:read"' in resp.headers["WWW-Authenticate"]
    resp = client.post("/api/v1/toy/rosters", json=ROSTER, headers=bearer(secret))
    assert resp.status_code == 403


def test_revoked_token_is_401_at_once(app, client, make_token):
    secret = make_token("yansi", ["profile"])
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db = app.extensions["ruang"].db
    with db.session() as session:
        (token, _owner), = tokens.list_tokens(session)
    with db.transaction() as session:
        tokens.revoke_token(session, token.id)
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 401
    assert "revoked" in resp.get_json()["message"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_expired_token_is_401(client, make_token):
    secret = make_token("yansi", ["profile"], days=1, now=utcnow() - timedelta(days=1, seconds=5))
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 401
    assert "expired" in resp.get_json()["message"]
    fresh = make_token("yansi", ["profile"], days=1, now=utcnow() - timedelta(hours=23))
    assert client.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_deactivated_account_is_403(app, client, make_token):
    secret = make_token("yansi", ["profile"])
    with app.extensions["ruang"].db.transaction() as session:
        session.scalar(select(User).where(User.username == "yansi")).active = False
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "account_inactive"


def test_disabled_plugin_route_is_404_and_back_after_enable(app, client, make_token):
    r = app.extensions["ruang"]
    secret = make_token("yansi", ["results:read"])
    url = "/api/v1/toy/exams/7/results"
    assert client.get(url, headers=bearer(secret)).status_code == 200
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "toyapi", False, actor=None)
    resp = client.get(url, headers=bearer(secret))
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    # Even without a token: a disabled plugin's endpoint does not exist.
    assert client.get(url).status_code == 404
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "toyapi", True, actor=None)
    resp = client.get(url, headers=bearer(secret))
    assert resp.status_code == 200
    assert resp.get_json() == {"exam_id": 7, "results": [{"nim": "20230001", "score": 81.5}]}


def test_path_parameters_and_handler_errors(client, make_token):
    secret = make_token("yansi", ["results:read"])
    resp = client.get("/api/v1/toy/exams/99/results", headers=bearer(secret))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "not_found", "message": "no exam 99"}
    # The int converter refuses a non-number before any handler runs.
    resp = client.get("/api/v1/toy/exams/abc/results", headers=bearer(secret))
    assert resp.status_code == 404 and resp.is_json
    resp = client.get("/api/v1/toy/teapot", headers=bearer(secret))
    assert resp.status_code == 418
    assert resp.get_json()["message"] == "short and stout"


def test_a_handler_bug_is_a_json_500(app, client, make_token):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = client.get("/api/v1/toy/broken", headers=bearer(make_token("yansi", ["results:read"])))
    assert resp.status_code == 500
    assert resp.get_json()["error"] == "internal_server_error"
    assert "not a number" not in resp.get_data(as_text=True)


def test_push_roster_without_csrf_and_drop_it(client, make_token, toy):
    secret = make_token("wdm", ["rosters:write"])
    resp = client.post("/api/v1/toy/rosters", json=ROSTER, headers=bearer(secret))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"course": "IF101", "accepted": 2}
    assert [s.nim for s in toy.rosters["IF101"].students] == ["20230001", "20230002"]
    resp = client.delete("/api/v1/toy/rosters/IF101", headers=bearer(secret))
    assert resp.status_code == 204 and resp.data == b""
    assert "IF101" not in toy.rosters
    resp = client.delete("/api/v1/toy/rosters/IF101", headers=bearer(secret))
    assert resp.status_code == 404


def test_invalid_body_is_422_with_each_field(client, make_token, toy):
    secret = make_token("wdm", ["rosters:write"])
    bad = {"course": "", "students": [{"nim": "12", "name": "Ani"}, {"name": "Budi"}]}
    resp = client.post("/api/v1/toy/rosters", json=bad, headers=bearer(secret))
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "invalid_body"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"course", "students.0.nim", "students.1.nim"}
    assert "at least 1 character" in fields["course"]
    assert fields["students.1.nim"] == "Field required"
    assert toy.rosters == {}

    resp = client.post("/api/v1/toy/rosters", headers=bearer(secret))
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"course", "students"}
    resp = client.post("/api/v1/toy/rosters", json=[1, 2], headers=bearer(secret))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "(body)"
    resp = client.post("/api/v1/toy/rosters", data="{not json", headers={
        **bearer(secret), "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


def test_handler_sees_the_token_user_as_current_user_and_audit_names_them(app, client,
                                                                           make_token):
    secret = make_token("jds", ["results:read"])
    resp = client.get("/api/v1/toy/whoami", headers=bearer(secret))
    assert resp.get_json() == {"user": "jds", "current_user": "jds"}
    with app.extensions["ruang"].db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "api.token.create")).one()
    assert entry.details["user"] == "jds" and entry.details["scopes"] == ["results:read"]


def test_plugins_lists_name_version_enabled(app, client, make_token):
    r = app.extensions["ruang"]
    secret = make_token("admin", ["plugins:read"])
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "toyapi", False, actor=None)
    resp = client.get("/api/v1/plugins", headers=bearer(secret))
    assert resp.status_code == 200
    plugins = {p["name"]: p for p in resp.get_json()["plugins"]}
    assert plugins["toyapi"]["version"] == "0.9.1" and plugins["toyapi"]["enabled"] is False
    assert plugins["api"]["enabled"] is True and plugins["api"]["core"] is True


def test_unknown_path_and_method_answer_json(client, make_token):
    resp = client.get("/api/v1/nothing-here", headers=bearer(make_token()))
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    resp = client.put("/api/v1/me", headers=bearer(make_token()))
    assert resp.status_code == 405 and resp.get_json()["error"] == "method_not_allowed"


def test_last_use_is_recorded(app, client, make_token):
    secret = make_token("yansi", ["profile"])
    before = utcnow()
    client.get("/api/v1/me", headers=bearer(secret))
    with app.extensions["ruang"].db.session() as session:
        (token, _owner), = tokens.list_tokens(session)
    assert token.last_used_at is not None and token.last_used_at >= before


@pytest.mark.live
def test_real_http_client_against_a_live_server(live_server, app, make_token):
    """``requests`` against ``ruang serve``: what the academic information system runs."""
    secret = make_token("admin", ["profile", "plugins:read"])
    server = live_server()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secret}"
    resp = session.get(server.url + "/api/v1/me", timeout=10)
    assert resp.status_code == 200 and resp.json()["username"] == "admin"
    resp = requests.get(server.url + "/api/v1/openapi.json", timeout=10)
    assert resp.status_code == 200 and resp.json()["openapi"].startswith("3.1")
    resp = requests.get(server.url + "/api/v1/me", timeout=10,
                        headers={"Authorization": "Bearer ruang_wrong"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    # Revoked in another process (this test's app, same database): refused at once.
    db = app.extensions["ruang"].db
    with db.session() as s:
        (token, _owner), = tokens.list_tokens(s)
    with db.transaction() as s:
        tokens.revoke_token(s, token.id)
    assert session.get(server.url + "/api/v1/me", timeout=10).status_code == 401
