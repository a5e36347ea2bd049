"""Helpdesk settings: categories, service-level targets, holidays (typed or imported from
an iCalendar file), each validated and audited; only managers reach the page."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.helpdesk.models import Category, Holiday, SlaPolicy

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Kampus//Libur//ID
BEGIN:VEVENT
UID:1@kampus
DTSTART;VALUE=DATE:20260817
DTEND;VALUE=DATE:20260818
SUMMARY:Hari Kemerdekaan
END:VEVENT
BEGIN:VEVENT
UID:2@kampus
DTSTART;VALUE=DATE:20260320
DTEND;VALUE=DATE:20260322
SUMMARY:Idul Fitri
END:VEVENT
BEGIN:VEVENT
UID:3@kampus
DTSTART:20260901T090000Z
DTEND:20260901T100000Z
SUMMARY:Rapat (bukan hari libur)
END:VEVENT
END:VCALENDAR
"""


def test_only_managers_reach_the_settings(app, login):
    assert login("yansi").get("/helpdesk/admin/").status_code == 200  # Kabag. YANSI
    assert login("kabpti").get("/helpdesk/admin/").status_code == 200
    assert login("jds").get("/helpdesk/admin/").status_code == 403
    assert login("pemohon").get("/helpdesk/admin/").status_code == 403
    assert app.test_client().get("/helpdesk/admin/").status_code == 302


def test_categories_targets_and_holidays(app, login):
    yansi = login("yansi")
    yansi.get("/helpdesk/admin/")
    resp = yansi.post("/helpdesk/admin/categories", {
        "code": "printer", "name": "Printer", "division": "JDS", "auto_forward": "1",
        "default_priority": "low", "active": "1", "position": "5"})
    assert resp.status_code == 303
    bad = yansi.post("/helpdesk/admin/categories", {"code": "printer", "name": "Lagi",
                                                    "default_priority": "low"})
    assert bad.status_code == 400 and "kode printer sudah dipakai" in bad.get_data(as_text=True)
    bad = yansi.post("/helpdesk/admin/categories", {"code": "x-y", "name": "Tanpa bagian",
                                                    "auto_forward": "1"})
    assert bad.status_code == 400 and "pilih bagian tujuannya" in bad.get_data(as_text=True)
    r = app.extensions["ruang"]
    with r.db.session() as s:
        cat = s.scalar(select(Category).where(Category.code == "printer"))
        assert (cat.division, cat.auto_forward, cat.default_priority) == ("JDS", True, "low")
    resp = yansi.post("/helpdesk/admin/policies", {"category_id": str(cat.id), "priority": "low",
                                                   "first_response_min": "30",
                                                   "resolution_min": "120"})
    assert resp.status_code == 303
    bad = yansi.post("/helpdesk/admin/policies", {"priority": "low", "first_response_min": "60",
                                                  "resolution_min": "10"})
    assert bad.status_code == 400
    assert "target penyelesaian tidak boleh lebih pendek" in bad.get_data(as_text=True)
    with r.db.session() as s:
        from plugins.helpdesk.sla import target_for

        own, default = target_for(s, cat.id, "low"), target_for(s, None, "low")
        assert own is not None and default is not None
        assert own.resolution_min == 120
        assert default.resolution_min == 2880  # the default stays
        assert s.scalar(select(SlaPolicy.id).where(SlaPolicy.category_id == cat.id))

    resp = yansi.post("/helpdesk/admin/holidays/import", {
        "file": (io.BytesIO(ICS), "libur.ics")}, content_type="multipart/form-data")
    assert resp.status_code == 303
    with r.db.session() as s:
        days = {h.day.isoformat(): h.name for h in s.scalars(select(Holiday))}
    assert days == {"2026-08-17": "Hari Kemerdekaan", "2026-03-20": "Idul Fitri",
                    "2026-03-21": "Idul Fitri"}
    bad = yansi.post("/helpdesk/admin/holidays", {"day": "2026-08-17", "name": "lagi"})
    assert bad.status_code == 400 and "sudah hari libur" in bad.get_data(as_text=True)
    bad = yansi.post("/helpdesk/admin/holidays/import", {
        "file": (io.BytesIO(b"bukan kalender"), "x.ics")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "bukan berkas iCalendar" in bad.get_data(as_text=True)
    with r.db.session() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("helpdesk.%"))))
    assert {"helpdesk.category", "helpdesk.sla_policy", "helpdesk.holiday_import"} <= actions
