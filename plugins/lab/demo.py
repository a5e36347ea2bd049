"""Demo data for ``ruang demo``: bookings at every step on the core's demo labs LAB-1 and
LAB-2, their software and equipment, a closure, a repair at Biro Aset and a past session
with its usage log. Running it again adds nothing."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.db import utcnow
from core.rooms import service as rooms
from plugins.lab import catalog, holds, live, repairs, requests
from plugins.lab.models import (
    HoldKind,
    LabRequest,
    Occurrence,
    OccurrenceStatus,
    PreparationItem,
    RequestState,
    UsageEntry,
    UsageKind,
)
from plugins.lab.timeslots import at_local, today

SOFTWARE = {
    "LAB-1": ["Visual Studio Code | 1.95", "MySQL Workbench | 8.0", "XAMPP | 8.2",
              "Python | 3.12", "LibreOffice | 24.8", "Google Chrome | 131"],
    "LAB-2": ["LibreOffice | 24.8", "Microsoft Office | 2021", "SPSS | 29",
              "Google Chrome | 131"],
}
EQUIPMENT = {
    "LAB-1": [("Proyektor Epson EB-X51", 1), ("AC 2 PK", 2), ("Papan tulis kaca", 1),
              ("Switch 48 port", 1)],
    "LAB-2": [("Proyektor BenQ MX560", 1), ("AC 1,5 PK", 2), ("Pengeras suara", 2)],
}
SERIES = "Praktikum Basis Data kelas A"
SINGLE = "Pelatihan LibreOffice untuk staf fakultas"
LETTER = "Ujian praktik Statistika"
PAST = "Workshop Git dan GitHub"


def _user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _next(weekday: int, after: date, weeks: int = 0) -> date:
    """The first ``weekday`` (Monday is 0) strictly after ``after``, plus ``weeks``."""
    days = (weekday - after.weekday()) % 7 or 7
    return after + timedelta(days=days, weeks=weeks)


def ensure_demo(session: Session) -> None:
    lab1 = rooms.lab_by_code(session, "LAB-1")
    lab2 = rooms.lab_by_code(session, "LAB-2")
    admin, pemohon = _user(session, "admin"), _user(session, "pemohon")
    kabpti, yansi = _user(session, "kabpti"), _user(session, "yansi")
    if None in (lab1, lab2, admin, pemohon, kabpti, yansi):
        return  # the core's demo users and labs are missing: nothing to hang bookings on
    assert lab1 and lab2 and admin and pemohon and kabpti and yansi
    for lab in (lab1, lab2):
        catalog.profile(session, lab.id, create=True)
        if not catalog.software(session, lab.id):
            catalog.add_software_lines(session, lab, "\n".join(SOFTWARE[lab.code]), admin)
        if not catalog.equipment(session, lab.id):
            for name, qty in EQUIPMENT[lab.code]:
                catalog.add_equipment(session, lab, {"name": name, "quantity": qty}, admin)
    start = today()
    existing = set(session.scalars(select(LabRequest.purpose)))

    if SERIES not in existing:
        form = requests.parse_form({
            "lab_id": lab1.id, "first_day": _next(0, start + timedelta(days=2)).isoformat(),
            "start_time": "08:00", "end_time": "10:30", "weekly": "on",
            "last_day": _next(0, start + timedelta(days=2), weeks=7).isoformat(),
            "purpose": SERIES, "participants": 30,
            "software_needed": "MySQL Workbench, DBeaver",
            "description": "Praktikum mingguan mata kuliah Basis Data, semester genap."})
        req, _result = requests.submit(session, form, pemohon)
        requests.approve(session, req, kabpti, comment="Disetujui.", skip_conflicts=True)
        requests.assign(session, req, yansi, requests.AssignForm(
            assignee_id=yansi.id, items=requests.default_checklist(session, req)))
        for item in req.checklist:
            requests.tick(session, item, yansi, True)
        requests.mark_ready(session, req, yansi, "Lab siap dipakai.")

    if SINGLE not in existing:
        form = requests.parse_form({
            "lab_id": lab2.id, "first_day": _next(2, start + timedelta(days=2)).isoformat(),
            "start_time": "13:00", "end_time": "15:00", "purpose": SINGLE,
            "participants": 20, "software_needed": "LibreOffice"})
        requests.submit(session, form, pemohon)

    if LETTER not in existing:
        form = requests.parse_form({
            "lab_id": lab2.id, "first_day": _next(3, start + timedelta(days=2)).isoformat(),
            "start_time": "09:00", "end_time": "11:00", "purpose": LETTER,
            "participants": 24, "software_needed": "SPSS",
            "letter_number": "045/UN/FE/2026", "letter_date": start.isoformat(),
            "requester_name": "Dr. Siti Rahmawati", "requester_unit": "Fakultas Ekonomi",
            "requester_email": "siti.rahmawati@example.ac.id"}, letter=True)
        from plugins.lab.models import Channel

        requests.submit(session, form, yansi, channel=Channel.LETTER)

    closure_day = _next(5, start + timedelta(days=2))
    closing = at_local(closure_day, time(8))
    if not holds.conflicts(session, lab2.id, closing, at_local(closure_day, time(12))):
        live.block(session, lab2, closing, at_local(closure_day, time(12)),
                   "Instalasi ulang software semester baru", admin)

    if PAST not in existing:
        _past_session(session, lab1.id, pemohon, yansi)

    from core import settings_store
    from core.instance import ruang

    host = ruang().plugins
    if not settings_store.get(session, host, "lab.asset_office_email"):
        settings_store.set_value(session, host, "lab.asset_office_email",
                                 "biro.aset@demo.example.org", actor=admin)
    opened = repairs.reconcile(session, actor=admin)
    for repair in opened:
        repairs.send(session, repair, yansi, "Mohon segera diperbaiki.")


def _past_session(session: Session, lab_id: int, requester: User, staff: User) -> None:
    """A session that already happened (written directly: the portal only books ahead)."""
    day = today() - timedelta(days=3)
    begin, end = at_local(day, time(13)), at_local(day, time(15))
    if holds.conflicts(session, lab_id, begin, end):
        return
    from core.records import service as records

    req = LabRequest(number="-", state=RequestState.DONE.value, lab_id=lab_id,
                     requester_id=requester.id, requester_name=requester.display_name,
                     requester_unit=requester.unit, requester_email=requester.email,
                     purpose=PAST, participants=25, first_day=day, last_day=day,
                     start_time=time(13), end_time=time(15), created_by=requester.id,
                     coordinator_id=staff.id, assignee_id=staff.id,
                     created_at=utcnow() - timedelta(days=10))
    session.add(req)
    session.flush()
    req.number = records.issue(session, requests.RECORD_CODE, ref_type="lab_request",
                               ref_id=req.id, actor=requester).number
    occ = Occurrence(request_id=req.id, lab_id=lab_id, starts_at=begin, ends_at=end,
                     status=OccurrenceStatus.DONE.value,
                     checked_in_at=begin - timedelta(minutes=10), checked_in_by=staff.id,
                     checked_out_at=end - timedelta(minutes=5), checked_out_by=staff.id,
                     attendees=23, condition_note="Rapi, semua PC dimatikan.")
    session.add(occ)
    session.add(PreparationItem(request_id=req.id, position=0, label="Pasang Git di semua PC",
                              assignee_id=staff.id, done=True, done_by=staff.id,
                              done_at=begin - timedelta(days=1)))
    session.flush()
    holds.place(session, lab_id=lab_id, start=begin, end=end - timedelta(minutes=5),
                kind=HoldKind.BOOKING, title=f"{req.number} {PAST}",
                reference=f"lab-occ-{occ.id}", occurrence_id=occ.id,
                source_ref=f"lab_request:{req.id}", created_by=staff.id)
    for kind, at, extra in (
        (UsageKind.CHECK_IN, begin - timedelta(minutes=10), {"attendees": 23}),
        (UsageKind.NOTE, begin + timedelta(minutes=40), {"text": "Proyektor sempat mati 5 menit"}),
        (UsageKind.CHECK_OUT, end - timedelta(minutes=5), {"attendees": 23}),
    ):
        session.add(UsageEntry(lab_id=lab_id, occurrence_id=occ.id, kind=kind.value, at=at,
                               actor_id=staff.id, details={"request": req.number, **extra}))
    session.flush()

