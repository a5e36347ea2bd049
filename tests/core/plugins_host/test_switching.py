"""Switching plugins on and off at run time, in one process and through the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.app import create_app
from core.cli import cli
from core.plugins import PluginError
from tests.conftest import point_cli_at, prepare_test_app
from tests.fixtures.sample_plugin import SamplePlugin


@pytest.fixture
def sample() -> SamplePlugin:
    return SamplePlugin()


@pytest.fixture
def sample_app(settings, sample):
    app = create_app(settings, extra_plugins=[sample])
    prepare_test_app(app)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def _toggle(app, name, enabled):
    r = app.extensions["ruang"]
    with r.db.transaction() as session:
        return r.plugins.set_enabled(session, name, enabled, actor=None)


def _signed_in(app, username, password):
    from tests.conftest import Browserish

    b = Browserish(app.test_client())
    b.login(username, password)
    return b


def test_disabled_plugin_routes_menu_and_hooks_vanish_and_return(sample_app, sample):
    staff = _signed_in(sample_app, "yansi", "yansi-ruang")
    assert staff.get("/sample/").status_code == 200
    assert "Sample" in staff.get("/").get_data(as_text=True)

    assert _toggle(sample_app, "sample", False) is True
    assert sample.toggles == [("sample", False)]
    assert staff.get("/sample/").status_code == 404
    sample.calls.clear()
    page = staff.get("/").get_data(as_text=True)
    assert "Sample widget" not in page
    assert sample.calls == [], "hooks of a disabled plugin must not be called"

    _toggle(sample_app, "sample", True)
    assert staff.get("/sample/").status_code == 200
    assert "Sample widget" in staff.get("/").get_data(as_text=True)


def test_switching_twice_is_reported_and_audited_once(sample_app):
    from sqlalchemy import select

    from core.audit.models import AuditEntry

    assert _toggle(sample_app, "sample", False) is True
    assert _toggle(sample_app, "sample", False) is False
    with sample_app.extensions["ruang"].db.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "sample")).all()
    assert actions == ["plugin.disable"]


def test_core_plugins_cannot_be_switched_off(sample_app):
    with pytest.raises(PluginError, match="part of the core"):
        _toggle(sample_app, "accounts", False)


def test_unknown_plugin_is_a_clear_error(sample_app):
    with pytest.raises(PluginError, match=r"no plugin named 'nope'; installed plugins: .*helpdesk"):
        _toggle(sample_app, "nope", False)


def test_admin_page_switches_plugins(sample_app):
    admin = _signed_in(sample_app, "admin", "admin-ruang")
    page = admin.get("/admin/plugins").get_data(as_text=True)
    assert 'data-plugin="sample"' in page and "1.2.3" in page
    resp = admin.post("/admin/plugins/sample", {"action": "disable"})
    assert resp.status_code == 302
    assert admin.get("/sample/").status_code == 404
    assert admin.post("/admin/plugins/nope", {"action": "disable"}).status_code == 404
    assert admin.post("/admin/plugins/sample", {"action": "explode"}).status_code == 400
    admin.post("/admin/plugins/sample", {"action": "enable"})
    assert admin.get("/sample/").status_code == 200


def test_staff_cannot_switch_plugins(sample_app):
    staff = _signed_in(sample_app, "yansi", "yansi-ruang")
    assert staff.post("/admin/plugins/sample", {"action": "disable"}).status_code == 403


@pytest.fixture
def runner(instance, monkeypatch):
    point_cli_at(instance, monkeypatch)
    cli._app = None
    yield CliRunner()
    cli._app = None


def test_cli_plugins_list_enable_disable(runner):
    out = runner.invoke(cli, ["plugins", "list"])
    assert out.exit_code == 0, out.output
    lines = {line.split()[0]: line.split() for line in out.output.splitlines()[1:]}
    assert set(lines) >= {"cbt", "lab", "helpdesk", "certification", "training"}
    assert lines["helpdesk"][2:] == ["built-in", "enabled"]

    out = runner.invoke(cli, ["plugins", "disable", "helpdesk"])
    assert out.exit_code == 0 and "disabled" in out.output
    out = runner.invoke(cli, ["plugins", "list", "--json"])
    import json

    states = {row["name"]: row["state"] for row in json.loads(out.output)}
    assert states["helpdesk"] == "disabled"


def test_cli_unknown_plugin_exits_non_zero_and_changes_nothing(runner):
    out = runner.invoke(cli, ["plugins", "disable", "nope"])
    assert out.exit_code != 0
    assert "no plugin named 'nope'" in out.output
    out = runner.invoke(cli, ["plugins", "list"])
    assert "disabled" not in out.output
