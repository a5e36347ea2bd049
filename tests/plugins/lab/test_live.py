"""Live lab sessions: the seat map shows which PCs are online (kiosk heartbeats), in use,
faulty; seats are taken and freed during a checked-in session; the usage log records it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.db import utcnow
from core.rooms import kiosks
from core.rooms import service as rooms
from core.rooms.models import DeviceStatus
from plugins.lab import requests as lab_requests
from plugins.lab.models import LabProfile, LabRequest, Occurrence, UsageEntry
from plugins.lab.timeslots import local
from tests.plugins.lab.conftest import lab, user


def _session_now(db) -> int:
    """A letter request running now in LAB-2, ready and checked in; returns its occurrence."""
    from datetime import time

    lab2 = lab(db, "LAB-2")
    with db.transaction() as s:
        prof = s.get(LabProfile, lab2.id)
        assert prof is not None
        prof.open_days, prof.open_from, prof.open_until = "1234567", time(0, 0), time(23, 59)
    now = local(utcnow())
    start = (now + timedelta(minutes=20)).replace(second=0, microsecond=0)
    if start.date() != now.date():
        start = start.replace(hour=0, minute=30) + timedelta(days=0)
    end = min(start + timedelta(hours=2), start.replace(hour=23, minute=59))
    if end - start < timedelta(minutes=15):  # 23:39 to 23:40: no time left today
        start = (start + timedelta(days=1)).replace(hour=0, minute=30)
        end = start + timedelta(hours=2)
    staff, head = user(db, "jds"), user(db, "kabpti")
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab2.id, "first_day": start.date().isoformat(),
            "start_time": start.strftime("%H:%M"), "end_time": end.strftime("%H:%M"),
            "purpose": "Praktikum Sistem Operasi", "participants": 12,
            "letter_number": "5/SO/2026", "letter_date": start.date().isoformat(),
            "requester_name": "Prodi Informatika"}, letter=True), user(db, "yansi"),
            channel=lab_requests.Channel.LETTER)
        lab_requests.approve(s, req, head)
        lab_requests.assign(s, req, user(db, "yansi"), lab_requests.AssignForm(
            assignee_id=staff.id, items=["Nyalakan PC"]))
        lab_requests.tick(s, req.checklist[0], staff, True)
        lab_requests.mark_ready(s, req, staff)
        return req.occurrences[0].id


def test_live_map_online_in_use_faulty_and_usage_log(login, app, db):
    occ_id = _session_now(db)
    lab2 = lab(db, "LAB-2")
    with db.transaction() as s:
        code = kiosks.new_code(s, lab2).code
        kiosk_id = kiosks.enrol(s, code, seat_label="A1").kiosk.id
    kiosks.heartbeat(db, kiosk_id, check=True)

    jds = login("jds")
    page = jds.get("/lab/labs/LAB-2/live").get_data(as_text=True)
    assert 'data-seat="A1" data-state="online"' in page
    assert 'data-seat="A2" data-state="offline"' in page
    assert "Praktikum Sistem Operasi" in page
    checked = jds.post(f"/lab/occurrences/{occ_id}/check-in",
                       {"attendees": "11", "next": "/lab/labs/LAB-2/live"})
    assert checked.headers["Location"].endswith("/lab/labs/LAB-2/live")
    with db.session() as s:
        assert s.get_one(Occurrence, occ_id).status == "checked_in"

    jds.post("/lab/labs/LAB-2/seats/A1/take", {"occupant": "2210511001 Andi"})
    jds.post("/lab/labs/LAB-2/seats/A3/fault", {"problem": "Tidak bisa login",
                                                "next": "/lab/labs/LAB-2/live"})
    data = jds.get("/lab/labs/LAB-2/live.json").get_json()
    seats = {s["label"]: s for s in data["seats"]}
    assert seats["A1"]["state"] == "in_use" and seats["A1"]["occupant"] == "2210511001 Andi"
    assert seats["A1"]["online"] is True
    assert seats["A3"]["state"] == "faulty" and seats["A3"]["repair"].startswith("REP-")
    assert data["counts"]["in_use"] == 1 and data["counts"]["faulty"] >= 1
    assert data["current"]["occurrence"] == occ_id

    # A faulty PC cannot be taken.
    jds.post("/lab/labs/LAB-2/seats/A3/take", {"occupant": "Budi"})
    jds.post("/lab/labs/LAB-2/note", {"text": "Listrik padam 5 menit"})
    jds.post("/lab/labs/LAB-2/seats/A1/free", {})
    with db.transaction() as s:
        lab_requests.check_out(s, s.get_one(Occurrence, occ_id), user(db, "jds"))
    with db.session() as s:
        kinds = [e.kind for e in s.scalars(select(UsageEntry).where(
            UsageEntry.lab_id == lab2.id).order_by(UsageEntry.id))]
        req = s.scalar(select(LabRequest).where(LabRequest.purpose
                                                == "Praktikum Sistem Operasi"))
    assert kinds[-6:] == ["check_in", "seat_taken", "fault", "note", "seat_freed", "check_out"]
    assert req is not None and req.state == "done"

    log = login("kabpti").get("/lab/usage?lab=LAB-2").get_data(as_text=True)
    assert "2210511001 Andi" in log and "Listrik padam 5 menit" in log
    csv_text = login("kabpti").get("/lab/usage.csv?lab=LAB-2").get_data(as_text=True)
    assert "seat_taken" in csv_text and "2210511001 Andi" in csv_text
    assert login("pemohon").get("/lab/labs/LAB-2/live").status_code == 403


def test_faulty_and_repair_states_from_the_registry(login, db):
    lab1 = lab(db, "LAB-1")
    with db.transaction() as s:
        seat = rooms.seat_by_label(s, lab1.id, "E8")
        assert seat is not None
        device = rooms.device_at(s, seat.id)
        assert device is not None
        rooms.set_device_status(s, device, DeviceStatus.IN_REPAIR.value, reason="di Biro Aset")
    data = login("pengawas").get("/lab/labs/LAB-1/live.json").get_json()
    seats = {s["label"]: s for s in data["seats"]}
    assert seats["E8"]["state"] == "in_repair"
    assert seats["C4"]["state"] == "faulty"  # the demo's broken PC
