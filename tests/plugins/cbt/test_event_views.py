"""Event pages: the requester proposes and follows; Kabag. WDM reviews and prepares."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.models import User
from core.rooms.service import lab_by_code
from plugins.cbt.models import CbtEvent, CbtSession
from tests.plugins.cbt.test_events import _material


def _event(db) -> CbtEvent:
    with db.session() as session:
        event = session.scalars(select(CbtEvent).order_by(CbtEvent.id.desc())).first()
    assert event is not None
    return event


def test_requester_proposes_and_wdm_prepares_until_scheduled(login, db):
    requester, wdm = login("pemohon"), login("wdm")
    assert login("peserta").get("/cbt/events").status_code == 403

    page = requester.get("/cbt/events/new").get_data(as_text=True)
    assert "Ajukan kegiatan CBT" in page
    bad = requester.post("/cbt/events/new", {"title": "UTS", "unit": "Prodi TI",
                                              "starts_on": "2026-03-02",
                                              "expected_candidates": "0"})
    assert "Jumlah peserta" in bad.get_data(as_text=True)
    resp = requester.post("/cbt/events/new", {
        "title": "UTS Basis Data", "unit": "Prodi Sistem Informasi", "starts_on": "2026-03-02",
        "ends_on": "2026-03-02", "expected_candidates": "3", "purpose": "UTS",
        "material": "Basis data, 30 soal", "contact": "0812"})
    assert resp.status_code == 302
    event = _event(db)
    url = f"/cbt/events/{event.id}"
    page = requester.get(url).get_data(as_text=True)
    assert "Draf" in page and 'value="submit"' in page

    requester.post(f"{url}/workflow", {"action": "submit"})
    event = _event(db)
    assert event.state == "submitted" and event.letter_number.startswith("SP-CBT-")
    assert event.letter_number in requester.get("/cbt/events").get_data(as_text=True)
    # The requester cannot review their own proposal, even by posting the form by hand.
    assert requester.post(f"{url}/workflow", {"action": "accept"}).status_code == 403
    assert requester.post(f"{url}/prepare", {"action": "checklist"}).status_code == 403

    page = wdm.get(url).get_data(as_text=True)
    assert 'value="accept"' in page and 'value="return"' in page
    wdm.post(f"{url}/workflow", {"action": "accept"})
    assert _event(db).state == "preparing"

    exam_id = _material(db)
    with db.session() as session:
        lab = lab_by_code(session, "LAB-2")
        assert lab is not None
        proctor = session.scalar(select(User.id).where(User.username == "pengawas"))
    wdm.post(f"{url}/prepare", {"action": "checklist", "exam": exam_id, "material_agreed": "1",
                                "devices_checked": "1", "running_order": "08.00 mulai"})
    wdm.post(f"{url}/prepare", {"action": "session", "lab": lab.id,
                                "starts_at": "2026-03-02T08:00", "ends_at": "2026-03-02T09:30",
                                "seats": "3", "proctors": str(proctor)})
    with db.session() as session:
        (cbt_session,) = session.scalars(select(CbtSession)).all()
        assert cbt_session.starts_at.hour == 1 and cbt_session.reservation
    wdm.post(f"{url}/prepare", {"action": "seat", "session": cbt_session.id})
    page = wdm.get(url).get_data(as_text=True)
    assert "08.00 mulai" in page and "Lab Komputer 2 (LAB-2)" in page
    assert "02-03-2026 08:00 – 09:30" in page
    wdm.post(f"{url}/workflow", {"action": "schedule"})
    assert _event(db).state == "scheduled"

    page = requester.get(url).get_data(as_text=True)
    assert "Terjadwal" in page and "Lab Komputer 2 (LAB-2)" in page
    assert 'value="schedule"' not in page


def test_a_requester_sees_only_their_own_events(login, db):
    requester = login("pemohon")
    requester.post("/cbt/events/new", {
        "title": "Tes Masuk", "unit": "Fakultas Teknik", "starts_on": "2026-04-01",
        "expected_candidates": "100"})
    event = _event(db)
    assert login("yansi").get(f"/cbt/events/{event.id}").status_code == 200  # staff see all
    with db.transaction() as session:
        session.get(CbtEvent, event.id).created_by = None  # someone else's event
    assert requester.get(f"/cbt/events/{event.id}").status_code == 403
    assert "Tes Masuk" not in requester.get("/cbt/events").get_data(as_text=True)
