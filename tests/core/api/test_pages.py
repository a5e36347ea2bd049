"""Staff manage their API tokens on /account/tokens, and operators with `ruang tokens`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from core.api.models import ApiToken
from core.audit.models import AuditEntry
from tests.conftest import point_cli_at
from tests.core.api.conftest import bearer
from tests.core.api.toy_api import ToyApiPlugin

SECRET = re.compile(r'id="token-secret">(ruang_[A-Za-z0-9_-]{43})<')


def _create(browser, name="SIAKAD", scopes=("profile",), days="30"):
    data = {"name": name, "days": days, "scope": list(scopes)}
    return browser.post("/account/tokens", data)


def test_staff_create_use_and_revoke_a_token(login, client, db):
    staff = login("yansi")
    page = staff.get("/account/tokens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for scope in ("profile", "plugins:read", "results:read", "rosters:write"):
        assert f'value="{scope}"' in html
    assert "/api/v1/toy/rosters" in html

    resp = _create(staff, scopes=("profile", "results:read"))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    found = SECRET.search(resp.get_data(as_text=True))
    assert found, "the new token's secret is on the page"
    secret = found.group(1)
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["username"] == "yansi"

    listing = staff.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing, "the secret is shown once only"
    assert secret[:14] in listing and "SIAKAD" in listing
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
    assert token.scopes == ["profile", "results:read"]

    resp = staff.post(f"/account/tokens/{token.id}/revoke", {})
    assert resp.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    listing = staff.get("/account/tokens").get_data(as_text=True)
    assert f'data-token="{token.id}" data-state="revoked"' in listing


def test_form_errors_keep_what_was_typed_and_store_nothing(login, db):
    staff = login("wdm")
    resp = _create(staff, name="Import nilai", scopes=())
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Pilih sedikitnya satu cakupan" in html  # Indonesian by default
    assert 'value="Import nilai"' in html
    resp = _create(staff, name="  ", scopes=("profile",))
    assert resp.status_code == 400 and 'id="token-errors"' in resp.get_data(as_text=True)
    resp = _create(staff, scopes=("admin:everything",))
    assert resp.status_code == 400 and "admin:everything" in resp.get_data(as_text=True)
    resp = _create(staff, days="forever")
    assert resp.status_code == 400
    with db.session() as session:
        assert session.scalar(select(ApiToken.id)) is None


def test_token_never_expiring_and_english_page(login, db):
    staff = login("jds")
    staff.post("/lang/en", {"next": "/account/tokens"})
    resp = _create(staff, days="never")
    assert "shown only this once" in resp.get_data(as_text=True)
    with db.session() as session:
        assert session.scalars(select(ApiToken)).one().expires_at is None


def test_only_staff_roles_hold_tokens_and_each_sees_their_own(login, db):
    for name in ("peserta", "pemohon", "pengawas", "wr2"):
        assert login(name).get("/account/tokens").status_code == 403, name
    yansi, wdm, admin = login("yansi"), login("wdm"), login("admin")
    _create(yansi, name="yansi-token")
    _create(wdm, name="wdm-token")
    assert "wdm-token" not in yansi.get("/account/tokens").get_data(as_text=True)
    everything = admin.get("/account/tokens").get_data(as_text=True)
    assert "wdm-token" in everything and "yansi-token" in everything
    with db.session() as session:
        wdm_token = session.scalar(select(ApiToken).where(ApiToken.name == "wdm-token"))
    assert yansi.post(f"/account/tokens/{wdm_token.id}/revoke", {}).status_code == 404
    assert admin.post(f"/account/tokens/{wdm_token.id}/revoke", {}).status_code == 302
    with db.session() as session:
        assert session.get(ApiToken, wdm_token.id).revoked_at is not None
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "api.token.revoke")).one()
    assert entry.actor_name == "admin"


def test_menu_and_csrf(login, guest):
    staff = login("yansi")
    assert 'data-endpoint="api_tokens.tokens_page"' in staff.get("/").get_data(as_text=True)
    assert 'data-endpoint="api_tokens.tokens_page"' not in login("peserta").get(
        "/").get_data(as_text=True)
    resp = staff.client.post("/account/tokens", data={"name": "x", "scope": "profile"})
    assert resp.status_code == 400  # no CSRF token
    assert guest.get("/account/tokens").status_code == 302


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def ruang_cli(instance, monkeypatch) -> Iterator:
    """Runs ``ruang ...`` in-process on the test instance, with the toy API plugin."""
    from core import app as app_module
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    original = app_module.create_app

    def make(settings=None, **kw):
        kw.setdefault("extra_plugins", [ToyApiPlugin()])
        return original(settings, **kw)

    monkeypatch.setattr(app_module, "create_app", make)
    cli._app = None

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    try:
        yield run
    finally:
        cli._app = None


def test_cli_create_list_revoke(ruang_cli, client, db):
    out = ruang_cli("tokens", "create", "--user", "wdm", "--scope", "rosters:write",
                    "--scope", "profile", "--name", "SIAKAD roster push", "--days", "90")
    assert out.exit_code == 0, out.output
    secret = out.stdout.strip().splitlines()[-1]
    assert secret.startswith("ruang_")
    assert "shown only now" in out.stderr
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["username"] == "wdm"

    out = ruang_cli("tokens", "list")
    assert out.exit_code == 0
    assert secret[:14] in out.output and secret not in out.output
    assert "SIAKAD roster push [profile rosters:write]" in out.output and "active" in out.output

    with db.session() as session:
        token_id = session.scalar(select(ApiToken.id))
    out = ruang_cli("tokens", "revoke", str(token_id))
    assert out.exit_code == 0 and "revoked" in out.output
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "already revoked" in ruang_cli("tokens", "revoke", str(token_id)).output
    assert "revoked" in ruang_cli("tokens", "list", "--user", "wdm").output
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "api.token.revoke")).one()
    assert entry.actor_name.startswith("cli")


def test_cli_refuses_bad_input(ruang_cli, db):
    cases = [
        (["--user", "nobody", "--scope", "profile", "--name", "x"], "no user named 'nobody'"),
        (["--user", "wdm", "--scope", "nope:x", "--name", "x"], "unknown scope nope:x"),
        (["--user", "peserta", "--scope", "profile", "--name", "x"], "may not hold"),
        (["--user", "wdm", "--scope", "profile", "--name", "x", "--days", "0"], "0"),
        (["--user", "wdm", "--name", "x"], "--scope"),
    ]
    for args, message in cases:
        out = ruang_cli("tokens", "create", *args)
        assert out.exit_code != 0 and message in out.output, (args, out.output)
    assert ruang_cli("tokens", "revoke", "42").exit_code != 0
    with db.session() as session:
        assert session.scalar(select(ApiToken.id)) is None
    out = ruang_cli("tokens", "scopes")
    assert "rosters:write" in out.output and "/api/v1/toy/rosters" in out.output
    assert "no API tokens" in ruang_cli("tokens", "list").output
