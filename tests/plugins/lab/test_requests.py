"""The SOP's lab procedure end to end through the pages: a requester asks on the portal,
sees availability first, Ka. BPTI approves and delegates to Kabag. YANSI, who assigns the
preparation checklist; the lab is marked ready; e-mails go out at each step (real SMTP)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.audit.service import entries_for
from core.rooms import service as rooms
from plugins.lab import requests as lab_requests
from plugins.lab.models import Hold, LabRequest, Occurrence
from tests.plugins.lab.conftest import lab, monday, user
from tests.plugins.lab.helpers import mails, request_id_from, to


def form(lab_id: int, day: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "lab_id": lab_id, "first_day": day, "start_time": "08:00", "end_time": "10:00",
        "purpose": "Praktikum Jaringan Komputer", "participants": 25,
        "software_needed": "Cisco Packet Tracer, Wireshark", "requester_phone": "0812345678",
    }
    base.update(extra)
    return base


def load(db, request_id: int) -> LabRequest:
    with db.session() as s:
        req = s.get(LabRequest, request_id)
        assert req is not None
        _ = list(req.occurrences), list(req.checklist)
    return req


def test_portal_request_to_approved_booking_with_emails(login, db, smtp_server):
    lab1 = lab(db, "LAB-1")
    day = monday(60).isoformat()
    pemohon = login("pemohon")

    page = pemohon.get("/lab/request")
    assert page.status_code == 200
    assert 'name="first_day"' in page.get_data(as_text=True)

    # Availability is shown before submitting, and nothing is stored yet.
    checked = pemohon.post("/lab/request", form(lab1.id, day, action="check"))
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "lab-slots" in html and 'class="free"' in html
    with db.session() as s:
        assert s.scalar(select(LabRequest).where(LabRequest.purpose
                                                 == "Praktikum Jaringan Komputer")) is None

    sent = pemohon.post("/lab/request", form(lab1.id, day, action="submit"))
    assert sent.status_code == 302
    request_id = request_id_from(sent.headers["Location"])
    req = load(db, request_id)
    assert req.state == "submitted" and req.number.startswith("LAB-")
    assert req.channel == "portal" and req.requester_id == user(db, "pemohon").id
    assert [o.status for o in req.occurrences] == ["requested"]

    receipts = mails(smtp_server, req.number)
    assert to(receipts, "pemohon@demo.example.org"), "the requester gets a receipt"
    assert to(receipts, "kabpti@demo.example.org"), "Ka. BPTI hears of the new request"

    # The requester cannot approve their own request.
    assert pemohon.post(f"/lab/requests/{request_id}/approve", {}).status_code == 403

    kabpti = login("kabpti")
    detail = kabpti.get(f"/lab/requests/{request_id}").get_data(as_text=True)
    assert 'id="approve-form"' in detail
    approved = kabpti.post(f"/lab/requests/{request_id}/approve",
                           {"comment": "Silakan", "delegate": "on"})
    assert approved.status_code == 302
    req = load(db, request_id)
    assert req.state == "delegated"
    assert req.coordinator_id == user(db, "yansi").id
    assert [o.status for o in req.occurrences] == ["booked"]
    with db.session() as s:
        hold = s.scalar(select(Hold).where(Hold.occurrence_id == req.occurrences[0].id))
    assert hold is not None and hold.lab_id == lab1.id

    after_approval = mails(smtp_server, req.number)
    assert any("approved" in m.subject.lower() or "disetujui" in m.subject.lower()
               for m in to(after_approval, "pemohon@demo.example.org"))
    assert to(after_approval, "yansi@demo.example.org"), "Kabag. YANSI gets the delegation"

    # Kabag. YANSI assigns the preparation to a staff member, with a checklist.
    yansi = login("yansi")
    page = yansi.get(f"/lab/requests/{request_id}").get_data(as_text=True)
    assert 'id="assign-form"' in page
    assert "Cisco Packet Tracer" in page  # not installed yet: on the default checklist
    jds = user(db, "jds")
    assigned = yansi.post(f"/lab/requests/{request_id}/assign", {
        "assignee_id": jds.id, "items": "Nyalakan semua PC\nPasang Cisco Packet Tracer"})
    assert assigned.status_code == 302
    req = load(db, request_id)
    assert req.state == "preparing" and req.assignee_id == jds.id
    assert [i.label for i in req.checklist] == ["Nyalakan semua PC", "Pasang Cisco Packet Tracer"]
    assert to(mails(smtp_server, req.number), "jds@demo.example.org")

    # Not ready while the checklist has open items.
    staff = login("jds")
    refused = staff.post(f"/lab/requests/{request_id}/workflow", {"action": "mark_ready"})
    assert refused.status_code == 302
    assert load(db, request_id).state == "preparing"
    for item in req.checklist:
        assert staff.post(f"/lab/checklist/{item.id}", {"done": "1"}).status_code == 302
    assert all(i.done for i in load(db, request_id).checklist)
    staff.post(f"/lab/requests/{request_id}/workflow", {"action": "mark_ready",
                                                          "comment": "Siap"})
    req = load(db, request_id)
    assert req.state == "ready"
    ready = [m for m in to(mails(smtp_server, req.number), "pemohon@demo.example.org")
             if "ready" in m.subject.lower() or "siap" in m.subject.lower()]
    assert ready, "the requester hears that the lab is ready"

    # Every step is in the workflow history and the audit log.
    with db.session() as s:
        actions = [e.action for e in entries_for(s, "lab_requests", request_id)]
    for step in ("lab_request.start", "lab_request.approve", "lab_request.delegate",
                 "lab_request.assign", "lab_request.mark_ready"):
        assert step in actions
    history = pemohon.get(f"/lab/requests/{request_id}").get_data(as_text=True)
    assert "workflow-history" in history


def test_weekly_series_reports_the_one_conflicting_week(login, app, db, smtp_server):
    lab1 = lab(db, "LAB-1")
    first = monday(70)
    taken = first + timedelta(weeks=2)
    # Someone else already holds the third Monday (a CBT session reserved through the core).
    from datetime import UTC, datetime

    from core.contracts import RoomRequest

    with db.transaction() as s:
        start = datetime.combine(taken, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        answer = rooms.reserve(s, RoomRequest(
            lab_id=lab1.id, start=start, end=start + timedelta(hours=2),
            purpose="CBT UTS Kalkulus", source="cbt", source_ref="cbt_session:901"))
    assert answer.granted, answer.reason

    pemohon = login("pemohon")
    values = form(lab1.id, first.isoformat(), weekly="on",
                  last_day=(first + timedelta(weeks=5)).isoformat(), participants=30)
    checked = pemohon.post("/lab/request", {**values, "action": "check"}).get_data(as_text=True)
    assert checked.count('class="taken"') == 1 and checked.count('class="free"') == 5
    assert "CBT UTS Kalkulus" in checked

    sent = pemohon.post("/lab/request", {**values, "action": "submit"})
    request_id = request_id_from(sent.headers["Location"])
    req = load(db, request_id)
    statuses = [(o.starts_at.date(), o.status) for o in req.occurrences]
    assert len(statuses) == 6
    conflict = [d for d, s in statuses if s == "conflict"]
    assert conflict == [taken]
    page = pemohon.get(f"/lab/requests/{request_id}").get_data(as_text=True)
    assert 'data-status="conflict"' in page and "CBT UTS Kalkulus" in page

    kabpti = login("kabpti")
    kabpti.post(f"/lab/requests/{request_id}/approve", {"delegate": "on"})
    req = load(db, request_id)
    assert [o.status for o in req.occurrences].count("booked") == 5
    with db.session() as s:
        booked_holds = s.scalars(select(Hold).where(
            Hold.source_ref == f"lab_request:{request_id}")).all()
    assert len(booked_holds) == 5


def test_approval_refuses_a_clash_that_appeared_meanwhile(login, db, smtp_server):
    lab2 = lab(db, "LAB-2")
    day = monday(61)
    pemohon = login("pemohon")
    first = pemohon.post("/lab/request", form(lab2.id, day.isoformat(), action="submit",
                                              participants=10))
    second = pemohon.post("/lab/request", form(lab2.id, day.isoformat(), action="submit",
                                               participants=10, start_time="09:00",
                                               end_time="11:00", purpose="Rapat prodi"))
    a, b = request_id_from(first.headers["Location"]), request_id_from(second.headers["Location"])
    kabpti = login("kabpti")
    page = kabpti.get(f"/lab/requests/{b}").get_data(as_text=True)
    assert "also asked" in page or "Rapat" in page  # both are waiting; neither holds the lab
    kabpti.post(f"/lab/requests/{a}/approve", {"delegate": "on"})
    refused = kabpti.post(f"/lab/requests/{b}/approve", {"delegate": "on"},
                          follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert load(db, b).state == "submitted"
    assert "Praktikum Jaringan Komputer" in text  # the clash is named
    # Ka. BPTI then rejects it, with a reason the requester reads.
    kabpti.post(f"/lab/requests/{b}/workflow", {"action": "reject",
                                                "comment": "Lab sudah terpakai"})
    assert load(db, b).state == "rejected"
    rejection = to(mails(smtp_server, load(db, b).number), "pemohon@demo.example.org")
    assert any("Lab sudah terpakai" in m.text() for m in rejection)


def test_reject_needs_a_reason(login, db):
    lab2 = lab(db, "LAB-2")
    pemohon = login("pemohon")
    sent = pemohon.post("/lab/request", form(lab2.id, monday(62).isoformat(), action="submit",
                                             participants=5))
    request_id = request_id_from(sent.headers["Location"])
    login("kabpti").post(f"/lab/requests/{request_id}/workflow", {"action": "reject"})
    assert load(db, request_id).state == "submitted"


def test_bad_requests_are_refused_with_a_reason_and_store_nothing(login, db):
    lab2 = lab(db, "LAB-2")
    pemohon = login("pemohon")
    with db.session() as s:
        before = len(s.scalars(select(LabRequest)).all())
        working = len(rooms.working_seats(s, lab2.id))
    # The UI speaks Indonesian by default; each refusal names the field or the reason.
    cases = [
        (form(lab2.id, monday(63).isoformat(), participants=working + 1), "PC yang berfungsi"),
        (form(lab2.id, monday(63).isoformat(), start_time="10:00", end_time="09:00"),
         "Jam selesai harus setelah jam mulai"),
        (form(lab2.id, monday(63).isoformat(), start_time="05:00"), "buka pukul"),
        (form(lab2.id, monday(63).isoformat(), purpose="x"), "Keperluan: terlalu pendek"),
        (form(lab2.id, monday(63).isoformat(), participants="banyak"),
         "Jumlah pengguna: harus bilangan bulat"),
        (form(lab2.id, "2020-01-06"), "masa mendatang"),
        (form(lab2.id, monday(63).isoformat(), weekly="on"), "minggu terakhir"),
        (form(lab2.id, monday(63).isoformat(), weekly="on",
              last_day=(monday(63) + timedelta(weeks=40)).isoformat()), "26 minggu"),
    ]
    for values, reason in cases:
        answer = pemohon.post("/lab/request", {**values, "action": "submit"})
        assert answer.status_code == 400, values
        assert reason in answer.get_data(as_text=True), reason
    with db.session() as s:
        assert len(s.scalars(select(LabRequest)).all()) == before


def test_availability_json_shows_clashes_and_the_day(login, db):
    lab1 = lab(db, "LAB-1")
    day = monday(64)
    pemohon = login("pemohon")
    sent = pemohon.post("/lab/request", form(lab1.id, day.isoformat(), action="submit"))
    login("kabpti").post(f"/lab/requests/{request_id_from(sent.headers['Location'])}/approve",
                         {"delegate": "on"})
    answer = pemohon.get("/lab/availability.json", query_string={
        "lab_id": lab1.id, "first_day": day.isoformat(), "start_time": "09:00",
        "end_time": "11:00", "purpose": "cek", "participants": 3})
    data = answer.get_json()
    assert data["ok"] is False
    assert data["slots"][0]["free"] is False and data["slots"][0]["clashes"]
    assert any("Praktikum Jaringan Komputer" in d["title"] for d in data["day"])
    free = pemohon.get("/lab/availability.json", query_string={
        "lab_id": lab1.id, "first_day": day.isoformat(), "start_time": "10:00",
        "end_time": "12:00", "purpose": "cek", "participants": 3}).get_json()
    assert free["ok"] is True and free["slots"][0]["free"] is True


def test_letter_entered_by_staff_mails_the_sender(login, db, smtp_server):
    lab2 = lab(db, "LAB-2")
    yansi = login("yansi")
    assert login("pemohon").get("/lab/letter").status_code == 403
    values = form(lab2.id, monday(65).isoformat(), action="submit", participants=12,
                  letter_number="077/UN/FK/2026", letter_date="2026-01-05",
                  requester_name="Dr. Budi Santoso", requester_unit="Fakultas Kedokteran",
                  requester_email="budi@example.ac.id")
    import io

    values["letter_file"] = (io.BytesIO(b"%PDF-1.4 surat"), "surat.pdf")
    sent = yansi.post("/lab/letter", values, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    request_id = request_id_from(sent.headers["Location"])
    req = load(db, request_id)
    assert req.channel == "letter" and req.letter_number == "077/UN/FK/2026"
    assert req.requester_id is None and req.requester_email == "budi@example.ac.id"
    assert to(mails(smtp_server, req.number), "budi@example.ac.id")
    scan = yansi.get(f"/lab/requests/{request_id}/letter")
    assert scan.status_code == 200 and scan.data.startswith(b"%PDF")
    # A file that only pretends to be a PDF is refused, and no request is stored.
    fake = form(lab2.id, monday(65).isoformat(), action="submit", participants=12,
                letter_number="078/UN/FK/2026", letter_date="2026-01-05",
                requester_name="Dr. Budi Santoso", start_time="13:00", end_time="14:00")
    fake["letter_file"] = (io.BytesIO(b"MZ\x90\x00 not a pdf"), "surat.pdf")
    refused = yansi.post("/lab/letter", fake, content_type="multipart/form-data")
    assert refused.status_code == 400
    with db.session() as s:
        assert s.scalar(select(LabRequest).where(
            LabRequest.letter_number == "078/UN/FK/2026")) is None


def test_requester_sees_only_own_requests(login, db):
    lab2 = lab(db, "LAB-2")
    sent = login("yansi").post("/lab/letter", form(
        lab2.id, monday(66).isoformat(), action="submit", participants=3,
        letter_number="1/X", letter_date="2026-01-05", requester_name="Unit Lain"))
    request_id = request_id_from(sent.headers["Location"])
    assert login("pemohon").get(f"/lab/requests/{request_id}").status_code == 403
    assert login("kabpti").get(f"/lab/requests/{request_id}").status_code == 200


def test_cancelling_frees_the_lab_and_one_week_can_be_cancelled(login, db, smtp_server):
    lab2 = lab(db, "LAB-2")
    first = monday(67)
    pemohon = login("pemohon")
    sent = pemohon.post("/lab/request", form(
        lab2.id, first.isoformat(), action="submit", participants=5, weekly="on",
        last_day=(first + timedelta(weeks=2)).isoformat()))
    request_id = request_id_from(sent.headers["Location"])
    login("kabpti").post(f"/lab/requests/{request_id}/approve", {"delegate": "on"})
    req = load(db, request_id)
    second = req.occurrences[1]
    pemohon.post(f"/lab/occurrences/{second.id}/cancel", {"reason": "Libur nasional"})
    req = load(db, request_id)
    assert [o.status for o in req.occurrences] == ["booked", "cancelled", "booked"]
    with db.session() as s:
        assert s.scalar(select(Hold).where(Hold.occurrence_id == second.id)) is None
    pemohon.post(f"/lab/requests/{request_id}/workflow", {"action": "cancel",
                                                          "comment": "Kelas dibatalkan"})
    req = load(db, request_id)
    assert req.state == "cancelled"
    with db.session() as s:
        assert s.scalars(select(Hold).where(
            Hold.source_ref == f"lab_request:{request_id}")).all() == []
    assert to(mails(smtp_server, req.number), "yansi@demo.example.org")


def test_check_in_and_out_with_usage_log(app, db, smtp_server):
    """A letter request for the next hour (staff may enter short-notice requests), run
    through to check-out; check-out gives the rest of the slot back to the calendar."""
    from datetime import datetime

    from core.db import utcnow
    from plugins.lab.models import UsageEntry
    from plugins.lab.timeslots import local

    lab2 = lab(db, "LAB-2")
    staff, head, kabag = user(db, "jds"), user(db, "kabpti"), user(db, "yansi")
    now_local = local(utcnow())
    start = (now_local + timedelta(minutes=30)).replace(second=0, microsecond=0)
    if start.date() != now_local.date() or start.hour >= 19:
        start = datetime.combine(now_local.date() + timedelta(days=1), datetime.min.time(),
                                 tzinfo=now_local.tzinfo).replace(hour=9)
    end = start + timedelta(hours=2)
    data = {"lab_id": lab2.id, "first_day": start.date().isoformat(),
            "start_time": start.strftime("%H:%M"), "end_time": end.strftime("%H:%M"),
            "purpose": "Kuliah tamu", "participants": 10, "letter_number": "9/LT/2026",
            "letter_date": start.date().isoformat(), "requester_name": "Prodi SI"}
    with db.transaction() as s:
        from plugins.lab.models import LabProfile

        prof = s.get(LabProfile, lab2.id)
        if prof is not None:
            prof.open_days = "1234567"
            from datetime import time

            prof.open_from, prof.open_until = time(0, 0), time(23, 59)
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form(data, letter=True), kabag,
                                     channel=lab_requests.Channel.LETTER)
        request_id = req.id
    with db.transaction() as s:
        req = s.get(LabRequest, request_id)
        lab_requests.approve(s, req, head)
        lab_requests.assign(s, req, kabag, lab_requests.AssignForm(assignee_id=staff.id,
                                                                   items=["Nyalakan PC"]))
        lab_requests.tick(s, req.checklist[0], staff, True)
        lab_requests.mark_ready(s, req, staff)
        occ_id = req.occurrences[0].id
    moment = req.occurrences[0].starts_at - timedelta(minutes=5)
    with db.transaction() as s:
        occ = s.get(Occurrence, occ_id)
        lab_requests.check_in(s, occ, staff, attendees=9, now=moment)
    assert load(db, request_id).state == "in_use"
    out_at = moment + timedelta(minutes=50)
    with db.transaction() as s:
        occ = s.get(Occurrence, occ_id)
        lab_requests.check_out(s, occ, staff, condition_note="Rapi", now=out_at)
    req = load(db, request_id)
    assert req.state == "done"
    assert req.occurrences[0].status == "done" and req.occurrences[0].attendees == 9
    with db.session() as s:
        hold = s.scalar(select(Hold).where(Hold.occurrence_id == occ_id))
        kinds = [e.kind for e in s.scalars(select(UsageEntry).where(
            UsageEntry.occurrence_id == occ_id).order_by(UsageEntry.id))]
    assert hold is not None and hold.ends_at == out_at, "the rest of the slot is free again"
    assert kinds == ["check_in", "check_out"]


def test_no_show_frees_the_rest_of_the_slot(app, db):
    from plugins.lab.models import UsageEntry

    lab2 = lab(db, "LAB-2")
    head, kabag = user(db, "kabpti"), user(db, "yansi")
    day = monday(68)
    data = {"lab_id": lab2.id, "first_day": day.isoformat(), "start_time": "13:00",
            "end_time": "16:00", "purpose": "Kelas yang tidak datang", "participants": 4}
    pemohon = user(db, "pemohon")
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form(data), pemohon)
        lab_requests.approve(s, req, head, delegate=False)
        occ_id = req.occurrences[0].id
        starts = req.occurrences[0].starts_at
    with db.transaction() as s:
        lab_requests.mark_no_shows(s, now=starts + timedelta(minutes=10))
    with db.session() as s:
        assert s.get_one(Occurrence, occ_id).status == "booked"
    with db.transaction() as s:
        assert lab_requests.mark_no_shows(s, now=starts + timedelta(minutes=45)) >= 1
    with db.session() as s:
        occ = s.get(Occurrence, occ_id)
        hold = s.scalar(select(Hold).where(Hold.occurrence_id == occ_id))
        logged = s.scalar(select(UsageEntry).where(UsageEntry.occurrence_id == occ_id))
    assert occ is not None and occ.status == "no_show"
    assert hold is not None and hold.ends_at == starts + timedelta(minutes=45)
    assert logged is not None and logged.kind == "no_show"
    del kabag


def test_reminders_go_out_once_before_the_session(app, db, smtp_server):
    from datetime import datetime, time

    from core.db import utcnow
    from plugins.lab.models import LabProfile
    from plugins.lab.timeslots import local

    lab2 = lab(db, "LAB-2")
    with db.transaction() as s:
        prof = s.get_one(LabProfile, lab2.id)
        prof.open_days, prof.open_from, prof.open_until = "1234567", time(0), time(23, 59)
    soon = local(utcnow()) + timedelta(days=2)
    start = datetime.combine(soon.date(), time(9, 0), tzinfo=soon.tzinfo)
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab2.id, "first_day": start.date().isoformat(), "start_time": "09:00",
            "end_time": "10:00", "purpose": "Kuliah pengganti", "participants": 8,
            "letter_number": "12/KP/2026", "letter_date": start.date().isoformat(),
            "requester_name": "Ir. Wati", "requester_email": "wati@example.ac.id"},
            letter=True), user(db, "yansi"), channel=lab_requests.Channel.LETTER)
        lab_requests.approve(s, req, user(db, "kabpti"), delegate=False)
        number, starts = req.number, req.occurrences[0].starts_at
    with db.transaction() as s:
        lab_requests.send_reminders(s, now=starts - timedelta(hours=30))
    assert not [m for m in mails(smtp_server, number) if "Pengingat" in m.subject]
    with db.transaction() as s:
        lab_requests.send_reminders(s, now=starts - timedelta(hours=20))
    with db.transaction() as s:
        lab_requests.send_reminders(s, now=starts - timedelta(hours=2))
    reminders = [m for m in to(mails(smtp_server, number), "wati@example.ac.id")
                 if "Pengingat" in m.subject]
    assert len(reminders) == 1 and "LAB-2" in reminders[0].subject


def _ready_request(db, lab_id: int, day: str, weeks: int = 1, start: str = "08:00",
                   end: str = "10:00") -> int:
    data: dict[str, object] = {"lab_id": lab_id, "first_day": day, "start_time": start,
                               "end_time": end, "purpose": "Kelas otomatis", "participants": 6}
    if weeks > 1:
        from datetime import date as _date

        data.update(weekly="on", last_day=(_date.fromisoformat(day)
                                           + timedelta(weeks=weeks - 1)).isoformat())
    staff = user(db, "jds")
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form(data), user(db, "pemohon"))
        lab_requests.approve(s, req, user(db, "kabpti"))
        lab_requests.assign(s, req, user(db, "yansi"), lab_requests.AssignForm(
            assignee_id=staff.id, items=["Siapkan"]))
        lab_requests.tick(s, req.checklist[0], staff, True)
        lab_requests.mark_ready(s, req, staff)
        return req.id


def test_forgotten_check_out_is_closed_by_the_system(app, db):
    from core.audit.models import AuditEntry

    request_id = _ready_request(db, lab(db, "LAB-2").id, monday(69).isoformat())
    req = load(db, request_id)
    occ = req.occurrences[0]
    with db.transaction() as s:
        lab_requests.check_in(s, s.get_one(Occurrence, occ.id), user(db, "jds"),
                              now=occ.starts_at)
    with db.transaction() as s:
        lab_requests.close_forgotten(s, now=occ.ends_at + timedelta(minutes=30))
    assert load(db, request_id).state == "in_use"
    with db.transaction() as s:
        assert lab_requests.close_forgotten(s, now=occ.ends_at + timedelta(hours=2)) >= 1
    req = load(db, request_id)
    assert req.state == "done" and req.occurrences[0].checked_out_at == occ.ends_at
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "lab_request.finish",
            AuditEntry.object_id == str(request_id))).one()
    assert entry.actor_name == "system"


def test_undecided_requests_expire_and_the_requester_hears(app, db, smtp_server):
    lab2 = lab(db, "LAB-2")
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab2.id, "first_day": monday(69).isoformat(), "start_time": "13:00",
            "end_time": "14:00", "purpose": "Tidak diputuskan", "participants": 3}),
            user(db, "pemohon"))
        request_id, starts = req.id, req.occurrences[0].starts_at
    with db.transaction() as s:
        lab_requests.expire_undecided(s, now=starts - timedelta(minutes=1))
    assert load(db, request_id).state == "submitted"
    with db.transaction() as s:
        assert lab_requests.expire_undecided(s, now=starts + timedelta(minutes=1)) >= 1
    req = load(db, request_id)
    assert req.state == "rejected" and req.occurrences[0].status == "cancelled"
    assert to(mails(smtp_server, req.number), "pemohon@demo.example.org")


def test_finish_a_booking_whose_sessions_were_all_cancelled(login, db):
    request_id = _ready_request(db, lab(db, "LAB-1").id, monday(71).isoformat(), weeks=2)
    pemohon = login("pemohon")
    for occ in load(db, request_id).occurrences:
        pemohon.post(f"/lab/occurrences/{occ.id}/cancel", {"reason": "Kelas pindah"})
    staff = login("jds")
    assert 'value="finish"' in staff.get(f"/lab/requests/{request_id}").get_data(as_text=True)
    staff.post(f"/lab/requests/{request_id}/workflow", {"action": "finish"})
    assert load(db, request_id).state == "done"


def test_staff_move_a_session_and_its_hold_follows(login, db, smtp_server):
    lab1 = lab(db, "LAB-1")
    day = monday(72)
    pemohon = login("pemohon")
    first = request_id_from(pemohon.post("/lab/request", form(
        lab1.id, day.isoformat(), action="submit")).headers["Location"])
    other = request_id_from(pemohon.post("/lab/request", form(
        lab1.id, (day + timedelta(days=1)).isoformat(), action="submit",
        purpose="Kelas lain")).headers["Location"])
    kabpti = login("kabpti")
    kabpti.post(f"/lab/requests/{first}/approve", {"delegate": "on"})
    kabpti.post(f"/lab/requests/{other}/approve", {"delegate": "on"})
    occ = load(db, first).occurrences[0]
    yansi = login("yansi")
    assert login("pemohon").post(f"/lab/occurrences/{occ.id}/move", {}).status_code == 403
    # Onto the other class's time: refused, nothing moves.
    yansi.post(f"/lab/occurrences/{occ.id}/move", {
        "day": (day + timedelta(days=1)).isoformat(), "start_time": "09:00",
        "end_time": "11:00", "reason": "Dosen berhalangan"})
    assert load(db, first).occurrences[0].starts_at == occ.starts_at
    moved = yansi.post(f"/lab/occurrences/{occ.id}/move", {
        "day": (day + timedelta(days=2)).isoformat(), "start_time": "13:00",
        "end_time": "15:00", "reason": "Dosen berhalangan"})
    assert moved.status_code == 302
    after = load(db, first).occurrences[0]
    assert after.starts_at == occ.starts_at + timedelta(days=2, hours=5)
    with db.session() as s:
        hold = s.scalar(select(Hold).where(Hold.occurrence_id == occ.id))
    assert hold is not None and (hold.starts_at, hold.ends_at) == (after.starts_at,
                                                                   after.ends_at)
    told = [m for m in to(mails(smtp_server, load(db, first).number),
                          "pemohon@demo.example.org") if "Dosen berhalangan" in m.text()]
    assert told
