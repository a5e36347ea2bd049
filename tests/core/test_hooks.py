"""One test per hook of the plugin API, through a third-party-style plugin.

Hooks whose consumer is a core service (records, workflow, notify, rooms, API, jobs) are
tested with that service, in the service's own tests, under the same ``test_hook_`` names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect as sa_inspect

from core.app import create_app
from tests.conftest import DEMO_PASSWORDS, Browserish, point_cli_at, prepare_test_app
from tests.fixtures.sample_plugin import SamplePlugin

PO = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Sample page"
msgstr "Halaman contoh"

msgid "Dashboard"
msgstr "Beranda contoh"
'''


@pytest.fixture
def sample(tmp_path) -> SamplePlugin:
    folder = tmp_path / "sample-translations"
    (folder / "id" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "id" / "LC_MESSAGES" / "messages.po").write_text(PO, encoding="utf-8")
    return SamplePlugin(translations=str(folder))


@pytest.fixture
def sample_app(settings, sample):
    app = create_app(settings, extra_plugins=[sample])
    prepare_test_app(app)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def _as(app, username):
    b = Browserish(app.test_client())
    b.login(username, DEMO_PASSWORDS[username])
    return b


def _disable(app, name):
    r = app.extensions["ruang"]
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, name, False, actor=None)


def test_hook_ruang_models(sample_app):
    """Every model a plugin declares has its table once the database is migrated."""
    r = sample_app.extensions["ruang"]
    declared = [m for result in r.plugins.all_hook.ruang_models() for m in result or ()]
    names = {m.__tablename__ for m in declared}
    assert {"users", "audit_log", "plugin_states"} <= names
    tables = set(sa_inspect(r.db.engine).get_table_names())
    assert names <= tables, f"declared but not migrated: {names - tables}"


def test_hook_ruang_migrations(sample_app):
    """Each plugin has its own version location and branch; upgrading twice changes nothing."""
    from alembic.script import ScriptDirectory

    from core import migrate

    r = sample_app.extensions["ruang"]
    locations = [loc for loc in r.plugins.all_hook.ruang_migrations() if loc]
    assert len(locations) == len(set(locations)) >= 3
    cfg = migrate._config(r.plugins, r.settings.sqlalchemy_url)
    labels = {label for rev in ScriptDirectory.from_config(cfg).walk_revisions()
              for label in rev.branch_labels or ()}
    assert {"system", "accounts", "audit"} <= labels
    query = "SELECT version_num FROM alembic_version"
    with r.db.engine.connect() as conn:
        before = sorted(v for (v,) in conn.exec_driver_sql(query))
    migrate.upgrade(r.plugins, r.settings.sqlalchemy_url)
    with r.db.engine.connect() as conn:
        after = sorted(v for (v,) in conn.exec_driver_sql(query))
    assert before == after and after
    assert migrate.check(r.plugins, r.settings.sqlalchemy_url) == []


def test_hook_ruang_blueprints(sample_app):
    staff = _as(sample_app, "yansi")
    assert staff.get("/sample/").status_code == 200
    _disable(sample_app, "sample")
    assert staff.get("/sample/").status_code == 404


def test_hook_ruang_socket_handlers(sample_app):
    sio = sample_app.extensions["ruang"].socketio
    client = sio.test_client(sample_app, flask_test_client=_as(sample_app, "peserta").client)
    assert client.emit("sample_echo", {"text": "ok"}, callback=True)["echo"] == "ok"
    assert ("/", "sample_echo") in sample_app.extensions["ruang.socket_events"]


def test_hook_ruang_cli_commands(sample, instance, monkeypatch):
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    cli._app = None
    cli.commands.pop("sample-hello", None)
    from core import app as app_module

    original = app_module.create_app

    def make(settings=None, **kw):
        return original(settings, extra_plugins=[sample], **kw)

    monkeypatch.setattr(app_module, "create_app", make)
    try:
        out = CliRunner().invoke(cli, ["sample-hello"])
        assert out.exit_code == 0 and "hello from sample" in out.output
        out = CliRunner().invoke(cli, ["plugins", "disable", "sample"])
        assert out.exit_code == 0
        out = CliRunner().invoke(cli, ["sample-hello"])
        assert out.exit_code != 0 and "sample plugin is disabled" in out.output
    finally:
        cli._app = None
        cli.commands.pop("sample-hello", None)


def test_hook_ruang_translations(sample_app):
    staff = _as(sample_app, "yansi")
    assert "Halaman contoh" in staff.get("/sample/").get_data(as_text=True)
    # Two catalogues translate "Dashboard": each plugin's pages use its own words.
    assert "[Beranda contoh]" in staff.get("/sample/").get_data(as_text=True)
    assert "Beranda contoh" not in staff.get("/").get_data(as_text=True)
    assert "Dasbor" in staff.get("/").get_data(as_text=True)
    staff.post("/lang/en", {"next": "/sample/"})
    assert "Sample page" in staff.get("/sample/").get_data(as_text=True)


def test_hook_ruang_permissions(sample_app):
    from core.accounts.access import UnknownPermission, can
    from core.accounts.models import User

    staff = User(username="s", role="staff", division="WDM", active=True)
    approver = User(username="a", role="approver", active=True)
    assert can(staff, "sample.staff_event") and not can(approver, "sample.staff_event")
    assert not can(None, "sample.view")
    with pytest.raises(UnknownPermission):
        can(staff, "sample.nonexistent")


def test_hook_ruang_settings(sample_app):
    from core import settings_store

    r = sample_app.extensions["ruang"]
    with r.db.session() as s:
        assert settings_store.get(s, r.plugins, "sample.max_items") == 10
    with r.db.transaction() as s:
        assert settings_store.set_value(s, r.plugins, "sample.max_items", "25") == 25
    with pytest.raises(settings_store.SettingError, match=r"sample\.max_items"), \
            r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "sample.max_items", "many")
    with pytest.raises(settings_store.SettingError, match="unknown setting"), \
            r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "sample.nope", "1")
    with r.db.session() as s:
        assert settings_store.get(s, r.plugins, "sample.max_items") == 25


def test_hook_ruang_app_created(sample_app):
    assert "X!" in _as(sample_app, "yansi").get("/sample/").get_data(as_text=True)


def test_hook_ruang_startup_check(sample_app, sample):
    from core.cli import serve

    sample.refuse_start = "the sample's licence file is missing"
    # An address this machine does not have: were the check skipped, serve fails to bind
    # at once instead of listening for ever.
    result = sample_app.test_cli_runner().invoke(serve, ["--host", "203.0.113.1",
                                                         "--port", "9"])
    assert result.exit_code != 0
    assert "refusing to start: the sample's licence file is missing" in result.output


def test_hook_ruang_menu_items(sample_app):
    staff = _as(sample_app, "yansi")
    assert 'href="/sample/"' in staff.get("/").get_data(as_text=True)
    _disable(sample_app, "sample")
    assert 'href="/sample/"' not in staff.get("/").get_data(as_text=True)


def test_hook_ruang_dashboard_widgets(sample_app):
    page = _as(sample_app, "yansi").get("/").get_data(as_text=True)
    assert "Sample widget" in page and "42 things" in page


def test_hook_ruang_demo_data(sample_app, sample):
    r = sample_app.extensions["ruang"]
    for _ in range(2):
        with r.db.transaction() as s:
            r.plugins.hook.ruang_demo_data(session=s)
    assert sample.demo_runs == 2
    from sqlalchemy import func, select

    from core.accounts.models import User

    with r.db.session() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username == "admin")) == 1


def test_hook_ruang_plugin_toggled(sample_app, sample):
    _disable(sample_app, "sample")
    assert sample.toggles == [("sample", False)]


def test_hook_ruang_calendar_items(sample_app):
    from icalendar import Calendar

    from core import calendar

    r = sample_app.extensions["ruang"]
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    with r.db.session() as s:
        items = calendar.items(s, start, end)
    sample_items = [i for i in items if i.source == "sample"]
    assert [i.title for i in sample_items] == ["Sample lecture"]
    parsed = Calendar.from_ical(calendar.to_ical(sample_items))
    events = list(parsed.walk("VEVENT"))
    assert str(events[0]["summary"]) == "Sample lecture"
    with pytest.raises(ValueError, match="end after it starts"), r.db.session() as s:
        calendar.items(s, end, start)


def test_hook_ruang_third_parties(sample_app):
    from core import directory

    r = sample_app.extensions["ruang"]
    with r.db.session() as s:
        found = directory.third_parties(s, "mitra")
        assert [p.name for p in found if p.source == "sample"] == ["PT Mitra Jaringan"]
        _disable(sample_app, "sample")
        assert [p for p in directory.third_parties(s, "") if p.source == "sample"] == []
