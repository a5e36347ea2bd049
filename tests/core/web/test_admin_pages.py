"""The admin pages of the shell: settings with validation, the audit log and its check."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from core.audit.models import AuditEntry


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_settings_page_lists_declared_settings_with_values(login):
    admin = login("admin")
    page = _text(admin.get("/admin/settings"))
    assert 'data-setting="ui.unit_name"' in page
    assert 'data-setting="ui.announcement"' in page
    assert 'value="BPTI"' in page


def test_changing_a_setting_shows_it_everywhere_and_is_audited(login, db):
    admin = login("admin")
    resp = admin.post("/admin/settings", {"key": "ui.announcement",
                                          "value": '"Ujian" CBT Senin 08.00, Lab 1'})
    assert resp.status_code == 302
    dashboard = _text(admin.get("/"))
    assert "&#34;Ujian&#34; CBT Senin 08.00, Lab 1" in dashboard  # taken literally, escaped
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "setting.change" and entry.object_id == "ui.announcement"
    assert entry.actor_name == "admin"


def test_a_bad_value_is_refused_with_its_reason_and_changes_nothing(login):
    admin = login("admin")
    resp = admin.post("/admin/settings", {"key": "ui.unit_name", "value": "x" * 41})
    assert resp.status_code == 400
    page = _text(resp)
    assert 'aria-invalid="true"' in page
    assert re.search(r'class="field-error"[^>]*>Tulis paling banyak 40 karakter.<', page)
    assert "x" * 41 in page  # what was typed stays in the field to correct it
    assert 'value="BPTI"' not in page.split('data-setting="ui.unit_name"')[1].split("</form>")[0]
    assert "<span class=\"brand-unit\">BPTI</span>" in _text(admin.get("/"))


def test_reset_goes_back_to_the_default(login):
    admin = login("admin")
    admin.post("/admin/settings", {"key": "ui.unit_name", "value": "UPT TIK"})
    assert "UPT TIK" in _text(admin.get("/"))
    admin.post("/admin/settings", {"key": "ui.unit_name", "action": "reset"})
    assert "UPT TIK" not in _text(admin.get("/"))


def test_unknown_setting_is_404(login):
    admin = login("admin")
    assert admin.post("/admin/settings", {"key": "nope.nothing", "value": "1"}).status_code == 404


# One sign-in per test: the suite's app fixture shares one app context (and so Flask-WTF's
# cached CSRF token in ``g``) between test clients.
def test_head_of_bpti_may_not_change_settings(login):
    assert login("kabpti").get("/admin/settings").status_code == 403


def test_requester_may_not_change_settings(login):
    resp = login("pemohon").post("/admin/settings", {"key": "ui.unit_name", "value": "X"})
    assert resp.status_code == 403


def test_audit_page_lists_and_filters_entries(login):
    admin = login("admin")
    admin.post("/admin/plugins/helpdesk", {"action": "disable"})
    admin.post("/admin/plugins/helpdesk", {"action": "enable"})
    page = _text(admin.get("/admin/audit"))
    assert "plugin.disable" in page and "plugin.enable" in page
    only = _text(admin.get("/admin/audit?action=plugin.disable"))
    rows = re.findall(r"<code>([a-z_.]+)</code>", only.split('id="audit-entries"')[1])
    assert rows == ["plugin.disable"]
    prefix = _text(admin.get("/admin/audit?action=plugin.&actor=admin"))
    rows = re.findall(r"<code>([a-z_.]+)</code>", prefix.split('id="audit-entries"')[1])
    assert rows == ["plugin.enable", "plugin.disable"]


def test_audit_filter_rejects_bad_input_clearly(login):
    admin = login("admin")
    resp = admin.get("/admin/audit?since=yesterday&limit=0")
    assert resp.status_code == 400
    page = _text(resp)
    assert "Dari: Masukkan tanggal dengan format TTTT-BB-HH." in page
    assert "Jumlah entri: Masukkan angka paling sedikit 1." in page


def test_head_of_bpti_reads_the_audit_log(login):
    assert login("kabpti").get("/admin/audit").status_code == 200


def test_requester_may_not_read_the_audit_log(login):
    assert login("pemohon").get("/admin/audit").status_code == 403


def test_verify_reports_intact_then_the_first_altered_entry(login, db):
    admin = login("admin")
    admin.post("/admin/plugins/helpdesk", {"action": "disable"})
    page = _text(admin.post("/admin/audit/verify"))
    assert 'data-intact="true"' in page
    with db.transaction() as session:
        target = session.scalar(select(AuditEntry.id).where(
            AuditEntry.action == "plugin.disable"))
        session.execute(update(AuditEntry).where(AuditEntry.id == target)
                        .values(actor_name="someone-else"))
    page = _text(admin.post("/admin/audit/verify"))
    assert 'data-intact="false"' in page
    assert f'data-entry="{target}"' in page


def test_a_plugins_number_setting_is_checked_and_stored(instance):
    """A third-party plugin's int setting: refused in Indonesian when not a number, then kept."""
    from core.app import create_app
    from tests.conftest import Browserish, make_settings, prepare_test_app
    from tests.fixtures.sample_plugin import SamplePlugin

    app = prepare_test_app(create_app(make_settings(instance), extra_plugins=[SamplePlugin()]))
    try:
        with app.app_context():
            admin = Browserish(app.test_client())
            admin.login("admin", "admin-ruang")
            page = _text(admin.get("/admin/settings"))
            assert 'id="settings-sample"' in page
            resp = admin.post("/admin/settings", {"key": "sample.max_items", "value": "dua"})
            assert resp.status_code == 400
            assert "Masukkan bilangan bulat." in _text(resp)
            resp = admin.post("/admin/settings", {"key": "sample.max_items", "value": "25"})
            assert resp.status_code == 302
            row = _text(admin.get("/admin/settings")).split('data-setting="sample.max_items"')[1]
            assert 'value="25"' in row.split("</form>")[0]
    finally:
        app.extensions["ruang"].db.dispose()


def test_text_setting_is_stored_as_typed(login, app):
    from core import settings_store

    admin = login("admin")
    admin.post("/admin/settings", {"key": "ui.unit_name", "value": "UPT TIK"})
    r = app.extensions["ruang"]
    with r.db.session() as s:
        assert settings_store.get(s, r.plugins, "ui.unit_name") == "UPT TIK"
