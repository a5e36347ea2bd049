"""What the plugin offers the rest of Ruang: vendors to other plugins, calendar items,
menus, dashboard cards, numbered records, documents, the command line."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from core import calendar, directory
from core.cli import cli
from plugins.certification import programmes, vendors
from plugins.certification.clock import now
from plugins.certification.models import CertDocument, CertField
from tests.conftest import point_cli_at
from tests.plugins.certification.conftest import publish, user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_vendors_are_shared_with_other_plugins(app, db):
    with db.transaction() as s:
        vendors.create(s, {"name": "CV Pelatih Andal", "kind": "trainer",
                           "email": "Halo@Pelatih.example", "offerings": "Pelatihan Linux"},
                       actor=user(db, "add"))
    with db.session() as s:
        found = directory.third_parties(s, "andal")
    assert [(p.name, p.email, p.source) for p in found] == [
        ("CV Pelatih Andal", "halo@pelatih.example", "certification")]


def test_vendor_documents_are_checked_and_kept(app, db, login):
    staff = login("add")
    resp = staff.post("/certification/vendors/new", {"name": "PT Dokumen", "active": "1"})
    assert resp.status_code == 302
    vendor_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    from io import BytesIO

    fake = staff.client.post(f"/certification/vendors/{vendor_id}/documents", data={
        "csrf_token": staff.csrf, "title": "Penawaran",
        "file": (BytesIO(b"MZ not a pdf"), "penawaran.pdf")}, follow_redirects=True)
    assert "penawaran.pdf" in fake.get_data(as_text=True)
    with db.session() as s:
        assert s.scalar(select(CertDocument.id)) is None
    ok = staff.client.post(f"/certification/vendors/{vendor_id}/documents", data={
        "csrf_token": staff.csrf, "title": "Penawaran", "direction": "received",
        "file": (BytesIO(PDF), "penawaran.pdf")})
    assert ok.status_code == 302
    with db.session() as s:
        doc = s.scalar(select(CertDocument))
    assert doc is not None and doc.size == len(PDF)
    got = staff.get(f"/certification/documents/{doc.id}")
    assert got.status_code == 200 and got.data == PDF
    assert login("peserta").get(f"/certification/documents/{doc.id}").status_code == 403


def test_sessions_show_in_the_calendar(app, db):
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 5}])
    start = now() + timedelta(days=10)
    with db.transaction() as s:
        field = s.get(CertField, prog.fields[0].id)
        assert field is not None
        programmes.add_session(s, field, {"title": "Ujian", "kind": "exam",
                                          "starts_at": start.isoformat(),
                                          "ends_at": (start + timedelta(hours=2)).isoformat(),
                                          "location": "Aula"}, actor=user(db, "add"))
    with db.session() as s:
        items = calendar.items(s, start - timedelta(hours=1), start + timedelta(hours=3),
                               user=None)
    assert [i.title for i in items if i.source == "certification"] == [
        "Sertifikasi Jaringan - Ujian"]


def test_menus_and_dashboard_follow_roles(app, db, login, guest):
    assert "/certification/" in login("add").get("/").get_data(as_text=True)
    wr2_home = login("wr2").get("/").get_data(as_text=True)
    assert "Pengajuan sertifikasi untuk WR II" in wr2_home  # the demo's proposal waits
    assert "Sertifikasi Cloud Practitioner" in wr2_home
    assert login("peserta").get("/certification/").status_code == 403
    assert guest.get("/certification/portal/").status_code == 200
    assert guest.get("/certification/").status_code == 302


def test_record_types_and_cli(app, db, instance, monkeypatch):
    from core.records.service import record_types

    assert {"CERT", "CERT-SP"} <= set(record_types())
    point_cli_at(instance, monkeypatch)
    runner = CliRunner()
    result = runner.invoke(cli, ["certification", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
    result = runner.invoke(cli, ["certification", "status"])
    assert "Sertifikasi Kompetensi TI 2026" in result.output
