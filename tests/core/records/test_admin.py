"""Staff manage record formats from the command line and from the admin page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from core.records import service
from core.records.models import RecordFormat
from tests.conftest import point_cli_at
from tests.core.records.toy_types import RecordTypesPlugin

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def ruang_cli(instance, monkeypatch) -> Iterator:
    """Runs ``ruang ...`` in-process on the test instance, with the record types plugin."""
    from core import app as app_module
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    original = app_module.create_app

    def make(settings=None, **kw):
        kw.setdefault("extra_plugins", [RecordTypesPlugin()])
        return original(settings, **kw)

    monkeypatch.setattr(app_module, "create_app", make)
    cli._app = None

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    try:
        yield run
    finally:
        cli._app = None


def test_cli_lists_sets_and_refuses_formats(ruang_cli, db):
    out = ruang_cli("records", "list")
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if ln.startswith("BA "))
    assert "BA-{seq:02d}/{unit}/{year}" in line and "yearly" in line and "Berita acara" in line

    out = ruang_cli("records", "set-format", "BA", "BA-{seq:03d}/BPTI/{roman_month}/{year}")
    assert out.exit_code == 0, out.output
    assert "next number: BA-001/BPTI/" in out.output
    out = ruang_cli("records", "list")
    assert "BA-{seq:03d}/BPTI/{roman_month}/{year} *" in out.output

    out = ruang_cli("records", "set-format", "BA", "BA-{nomor}/{year}")
    assert out.exit_code != 0
    assert "unknown field {nomor}" in out.output and "allowed fields: seq, year" in out.output
    out = ruang_cli("records", "set-format", "NOPE", "{seq}")
    assert out.exit_code != 0 and "unknown record type 'NOPE'" in out.output
    with db.session() as s:
        assert s.get(RecordFormat, "BA").fmt == "BA-{seq:03d}/BPTI/{roman_month}/{year}"

    out = ruang_cli("records", "reset-format", "BA")
    assert out.exit_code == 0 and "BA-{seq:02d}/{unit}/{year}" in out.output
    with db.session() as s:
        assert s.get(RecordFormat, "BA") is None


def test_cli_lists_issued_numbers(ruang_cli, db):
    # Plugins' demo data issues numbers of their own types; these tests' types start empty.
    out = ruang_cli("records", "issued", "--type", "TIKET")
    assert out.exit_code == 0 and "no numbers issued" in out.output
    at = datetime(2026, 5, 2, 8, 0, tzinfo=WIB)
    with db.transaction() as s:
        service.issue(s, "BA", ref_type="cbt_event", ref_id=3, at=at)
        service.issue(s, "TIKET", ref_type="ticket", ref_id=9, at=at)
    out = ruang_cli("records", "issued", "--type", "TIKET")
    assert out.exit_code == 0
    assert "T202605-0001" in out.output and "ticket:9" in out.output
    assert "BA-01" not in out.output
    out = ruang_cli("records", "issued")
    assert "BA-01/BPTI/2026" in out.output and "T202605-0001" in out.output
    out = ruang_cli("records", "issued", "--type", "XYZ")
    assert out.exit_code != 0 and "unknown record type 'XYZ'" in out.output


def test_admin_page_changes_a_format(login, db):
    admin = login("admin")
    page = admin.get("/admin/records")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-code="TIKET"' in html and "T{year}{month:02d}-{seq:04d}" in html
    assert "/admin/records" in admin.get("/").get_data(as_text=True)  # in the admin menu

    resp = admin.post("/admin/records/TIKET", {"action": "save", "fmt": "TKT/{year}/{month}/{seq}"})
    assert resp.status_code == 302
    with db.session() as s:
        assert s.get(RecordFormat, "TIKET").fmt == "TKT/{year}/{month}/{seq}"
    html = admin.get("/admin/records").get_data(as_text=True)
    assert "TKT/{year}/{month}/{seq}" in html

    resp = admin.post("/admin/records/TIKET", {"action": "save", "fmt": "TKT/{seq}"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "must contain {year}" in body
    with db.session() as s:
        assert s.get(RecordFormat, "TIKET").fmt == "TKT/{year}/{month}/{seq}"

    resp = admin.post("/admin/records/TIKET", {"action": "reset"})
    assert resp.status_code == 302
    with db.session() as s:
        assert s.get(RecordFormat, "TIKET") is None
    assert admin.post("/admin/records/NOPE", {"action": "save", "fmt": "{seq}"}).status_code == 404


def test_admin_page_lists_issued_numbers(login, db):
    with db.transaction() as s:
        service.issue(s, "SOP", ref_type="document", ref_id="SOP-01.002")
        service.issue(s, "BA", ref_type="cbt_event", ref_id=1)
    admin = login("admin")
    html = admin.get("/admin/records?type=SOP").get_data(as_text=True)
    assert "SOP-1" in html and "document #SOP-01.002" in html
    assert "BA-01/BPTI/" not in html
    html = admin.get("/admin/records").get_data(as_text=True)
    assert "SOP-1" in html and "BA-01/BPTI/" in html


def test_admin_page_needs_settings_permission(login, guest, db):
    staff = login("yansi")
    assert staff.get("/admin/records").status_code == 403
    resp = staff.post("/admin/records/BA", {"action": "save", "fmt": "X-{seq}-{year}"})
    assert resp.status_code == 403
    assert "/admin/records" not in staff.get("/").get_data(as_text=True)
    resp = guest.get("/admin/records")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    with db.session() as s:
        assert s.get(RecordFormat, "BA") is None


def test_admin_page_speaks_indonesian_by_default(login):
    html = login("admin").get("/admin/records").get_data(as_text=True)
    assert "Rekaman mutu" in html and "Nomor berikutnya" in html
