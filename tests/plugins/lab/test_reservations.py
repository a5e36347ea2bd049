"""The room hooks the lab plugin answers for CBT sessions, trainings and certification
sessions: ``core.rooms.service.reserve`` is checked against bookings and refused on a
clash, on too few working PCs (faulty ones do not count) or on an inactive lab; release,
busy and the calendar follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from core.contracts import RoomRequest, RoomReservation, WorkflowEvent
from core.rooms import service as rooms
from core.rooms.models import DeviceStatus
from plugins.lab import requests as lab_requests
from plugins.lab.models import Hold
from tests.plugins.lab.conftest import lab, monday, user


def at(day_offset_weeks: int, hour: int) -> datetime:
    day = monday(day_offset_weeks)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def reserve(db: Any, **kw: Any) -> RoomReservation:
    base: dict[str, Any] = {"purpose": "CBT UAS Algoritma", "source": "cbt",
                            "source_ref": "cbt_session:1"}
    base.update(kw)
    with db.transaction() as s:
        return rooms.reserve(s, RoomRequest(**base))


def book(db, lab_id: int, day: str, start: str = "08:00", end: str = "10:00") -> int:
    """An approved lab booking (local times)."""
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab_id, "first_day": day, "start_time": start, "end_time": end,
            "purpose": "Praktikum Pemrograman Web", "participants": 20}), user(db, "pemohon"))
        lab_requests.approve(s, req, user(db, "kabpti"), delegate=False)
        return req.id


def test_a_cbt_session_cannot_be_scheduled_into_a_booked_lab(app, db):
    lab1 = lab(db, "LAB-1")
    book(db, lab1.id, monday(90).isoformat(), "08:00", "10:00")  # 01:00-03:00 UTC
    answer = reserve(db, lab_id=lab1.id, start=at(90, 2), end=at(90, 4), seats=30)
    assert not answer.granted
    assert "Praktikum Pemrograman Web" in answer.reason
    assert answer.conflicts and "Praktikum Pemrograman Web" in answer.conflicts[0]
    # Right after the booking it is free.
    ok = reserve(db, lab_id=lab1.id, start=at(90, 3), end=at(90, 5), seats=30)
    assert ok.granted and ok.reference.startswith("LAB-RSV")
    with db.session() as s:
        hold = s.scalar(select(Hold).where(Hold.reference == ok.reference))
    assert hold is not None and hold.kind == "reservation" and hold.source == "cbt"


def test_a_reservation_keeps_bookings_out(login, app, db):
    lab2 = lab(db, "LAB-2")
    granted = reserve(db, lab_id=lab2.id, start=at(91, 1), end=at(91, 3),
                      source="training", source_ref="training_session:7",
                      purpose="Diklat Keamanan Siber")
    assert granted.granted
    pemohon = login("pemohon")
    answer = pemohon.post("/lab/request", {
        "lab_id": lab2.id, "first_day": monday(91).isoformat(), "start_time": "09:00",
        "end_time": "10:00", "purpose": "Rapat", "participants": 5, "action": "submit"})
    assert answer.status_code == 400
    assert "Diklat Keamanan Siber" in answer.get_data(as_text=True)


def test_faulty_pcs_do_not_count_towards_seats(app, db):
    lab2 = lab(db, "LAB-2")
    with db.session() as s:
        working = len(rooms.working_seats(s, lab2.id))
    assert reserve(db, lab_id=lab2.id, start=at(92, 1), end=at(92, 2), seats=working,
                   source_ref="cbt_session:2").granted
    with db.transaction() as s:
        seat = rooms.working_seats(s, lab2.id)[0]
        device = rooms.device_at(s, seat.id)
        assert device is not None
        rooms.set_device_status(s, device, DeviceStatus.FAULTY.value, reason="mati")
    refused = reserve(db, lab_id=lab2.id, start=at(92, 3), end=at(92, 4), seats=working,
                      source_ref="cbt_session:3")
    assert not refused.granted
    assert f"{working - 1} working PCs" in refused.reason and "faulty" in refused.reason
    with db.session() as s:
        assert seat.id not in {x.id for x in rooms.working_seats(s, lab2.id)}


def test_inactive_lab_and_bad_spans_are_refused(app, db):
    lab2 = lab(db, "LAB-2")
    backwards = reserve(db, lab_id=lab2.id, start=at(93, 3), end=at(93, 2))
    assert not backwards.granted and "end after it starts" in backwards.reason
    with db.transaction() as s:
        found = rooms.get_lab(s, lab2.id)
        assert found is not None
        rooms.update_lab(s, found, active=False)
    inactive = reserve(db, lab_id=lab2.id, start=at(93, 1), end=at(93, 2))
    assert not inactive.granted and "inactive" in inactive.reason
    unknown = reserve(db, lab_id=99999, start=at(93, 1), end=at(93, 2))
    assert not unknown.granted


def test_release_busy_and_rescheduling(app, db):
    lab1 = lab(db, "LAB-1")
    first = reserve(db, lab_id=lab1.id, start=at(94, 1), end=at(94, 3),
                    source_ref="cbt_session:44")
    assert first.granted
    with db.session() as s:
        busy = rooms.busy(s, lab1.id, at(94, 0), at(94, 23))
    assert [(b.start, b.source) for b in busy] == [(at(94, 1), "cbt")]
    # Asking again for the same session moves it instead of clashing with itself.
    moved = reserve(db, lab_id=lab1.id, start=at(94, 2), end=at(94, 4),
                    source_ref="cbt_session:44")
    assert moved.granted and moved.reference != first.reference
    same = reserve(db, lab_id=lab1.id, start=at(94, 2), end=at(94, 4),
                   source_ref="cbt_session:44")
    assert same.reference == moved.reference
    with db.transaction() as s:
        rooms.release(s, moved.reference)
    with db.session() as s:
        assert rooms.busy(s, lab1.id, at(94, 0), at(94, 23)) == []


def test_hook_cancelled_cbt_event_frees_its_rooms(app, db):
    """ruang_workflow_transition: a plugin's object cancelled in its workflow releases the
    reservations whose source_ref names it."""
    lab1 = lab(db, "LAB-1")
    granted = reserve(db, lab_id=lab1.id, start=at(95, 1), end=at(95, 3),
                      source_ref="cbt_events:12")
    assert granted.granted
    host = app.extensions["ruang"].plugins
    with db.transaction() as s:
        host.hook.ruang_workflow_transition(session=s, event=WorkflowEvent(
            workflow="cbt_event", object_type="cbt_events", object_id=12, action="cancel",
            from_state="approved", to_state="cancelled", actor_id=None))
    with db.session() as s:
        assert s.scalar(select(Hold).where(Hold.reference == granted.reference)) is None


def test_calendar_items_show_bookings_to_staff_and_little_to_guests(app, db):
    from core import calendar

    lab1 = lab(db, "LAB-1")
    request_id = book(db, lab1.id, monday(96).isoformat())
    with db.session() as s:
        staff_view = calendar.items(s, at(96, 0), at(96, 23), user=user(db, "yansi"))
        guest_view = calendar.items(s, at(96, 0), at(96, 23), user=None)
    mine = [i for i in staff_view if i.url == f"/lab/requests/{request_id}"]
    assert mine and "Praktikum Pemrograman Web" in mine[0].title and mine[0].lab_id == lab1.id
    assert not any("Praktikum" in i.title for i in guest_view)
    assert any(i.source == "lab" for i in guest_view)


def test_reservation_grants_and_releases_are_audited(app, db):
    from core.audit.models import AuditEntry

    lab1 = lab(db, "LAB-1")
    granted = reserve(db, lab_id=lab1.id, start=at(97, 1), end=at(97, 2),
                      source_ref="certification_session:3", source="certification")
    with db.transaction() as s:
        rooms.release(s, granted.reference)
    with db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action.like("lab.reservation.%")))]
    assert actions[-2:] == ["lab.reservation.grant", "lab.reservation.release"]
