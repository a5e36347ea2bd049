"""The physical registry: labs and seats, PCs and their status, room reservations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.app import create_app
from core.audit.service import entries_for, verify
from core.contracts import CalendarItem, RoomRequest, RoomReservation
from core.db import utcnow
from core.plugins import hookimpl
from core.rooms import service
from core.rooms.demo import ensure_demo_labs
from core.rooms.models import Device, Lab, Seat
from tests.conftest import prepare_test_app
from tests.core.rooms.conftest import only_plugins


def _lab(db, code="LAB-T", rows=2, cols=3, **kw):
    with db.transaction() as session:
        lab = service.create_lab(session, code, f"Lab {code}", rows, cols, **kw)
        for n, seat in enumerate(service.seats_of(session, lab.id), start=1):
            service.save_device(session, seat, asset_number=f"T/{code}/{n:03d}",
                                hostname=f"{code.lower()}-pc{n:02d}")
    return lab


def _lab_by_code(session: Session, code: str) -> Lab:
    lab = service.lab_by_code(session, code)
    assert lab is not None, f"there is no lab {code}"
    return lab


def _seat(session: Session, lab_id: int, label: str) -> Seat:
    seat = service.seat_by_label(session, lab_id, label)
    assert seat is not None, f"lab {lab_id} has no seat {label}"
    return seat


def _device(session: Session, seat_id: int) -> Device:
    device = service.device_at(session, seat_id)
    assert device is not None, f"seat {seat_id} has no PC"
    return device


def _request(lab_id, seats=None, start=None, hours=2, ref="1"):
    start = start or utcnow() + timedelta(days=1)
    return RoomRequest(lab_id=lab_id, start=start, end=start + timedelta(hours=hours),
                       purpose="UTS Basis Data", source="cbt", source_ref=ref, seats=seats)


# -- labs and seats ------------------------------------------------------------------------


def test_create_lab_makes_labelled_seats_row_by_row(db):
    with db.transaction() as session:
        lab = service.create_lab(session, "lab-9", "Lab Sembilan", 3, 4, building="Gedung C")
    with db.session() as session:
        seats = service.seats_of(session, lab.id)
        stored = session.get(Lab, lab.id)
    assert stored.code == "LAB-9" and stored.building == "Gedung C"
    assert [s.label for s in seats] == ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4",
                                        "C1", "C2", "C3", "C4"]
    assert (seats[5].row, seats[5].col) == (2, 2)


@pytest.mark.parametrize(("args", "message"), [
    (("LAB-1", "Duplikat", 2, 2), "already exists"),
    (("LAB X", "Spasi", 2, 2), "code"),
    (("LAB-Y", "", 2, 2), "name"),
    (("LAB-Z", "Terlalu banyak baris", 27, 2), "rows"),
    (("LAB-Z", "Nol kolom", 2, 0), "cols"),
])
def test_bad_lab_is_refused_with_the_field_and_nothing_is_stored(db, args, message):
    with db.session() as session:
        before = session.scalar(select(func.count()).select_from(Lab))
    with pytest.raises(service.RoomError, match=message), db.transaction() as session:
        service.create_lab(session, *args)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Lab)) == before


def test_resizing_a_lab_keeps_seats_and_switches_off_those_outside(db):
    lab = _lab(db, "LAB-R", rows=2, cols=3)
    with db.transaction() as session:
        service.update_lab(session, session.get(Lab, lab.id), rows=3, cols=2)
    with db.session() as session:
        seats = {s.label: s for s in service.seats_of(session, lab.id)}
        working = [s.label for s in service.working_seats(session, lab.id)]
    assert seats["C1"].active and seats["C2"].active  # new row
    assert not seats["A3"].active and not seats["B3"].active  # outside the narrower grid
    assert working == ["A1", "A2", "B1", "B2"]  # C has no PCs yet; A3/B3 are out of use
    with db.transaction() as session:
        service.update_lab(session, session.get(Lab, lab.id), cols=3)
    with db.session() as session:
        assert _seat(session, lab.id, "a3").active


# -- devices -------------------------------------------------------------------------------


def test_device_status_change_is_audited_with_reason_and_actor(db):
    from core.accounts.models import User

    lab = _lab(db)
    with db.transaction() as session:
        admin = session.scalar(select(User).where(User.username == "jds"))
        seat = _seat(session, lab.id, "A2")
        device = _device(session, seat.id)
        assert service.set_device_status(session, device, "faulty", actor=admin,
                                         reason="Keyboard rusak")
        assert not service.set_device_status(session, device, "faulty", actor=admin)
        device_id = device.id
    with db.session() as session:
        entries = [e for e in entries_for(session, "device", device_id)
                   if e.action == "device.status"]
        assert verify(session) is None
    assert len(entries) == 1
    assert entries[0].actor_name == "jds"
    assert entries[0].details["from"] == "working"
    assert entries[0].details["to"] == "faulty"
    assert entries[0].details["reason"] == "Keyboard rusak"


def test_unknown_device_status_is_refused(db):
    lab = _lab(db)
    with pytest.raises(service.RoomError, match="working, faulty, in_repair"), \
            db.transaction() as session:
        device = _device(session, _seat(session, lab.id, "A1").id)
        service.set_device_status(session, device, "broken")


def test_working_seats_exclude_faulty_in_repair_missing_pc_and_seats_out_of_use(db):
    lab = _lab(db, rows=2, cols=3)
    with db.transaction() as session:
        seats = {s.label: s for s in service.seats_of(session, lab.id)}
        service.set_device_status(session, _device(session, seats["A1"].id), "faulty")
        service.set_device_status(session, _device(session, seats["A2"].id),
                                  "in_repair", reason="dibawa Biro Aset")
        session.delete(_device(session, seats["B1"].id))
        service.set_seat_active(session, seats["B2"], False, reason="tiang")
    with db.session() as session:
        assert [s.label for s in service.working_seats(session, lab.id)] == ["A3", "B3"]


def test_asset_numbers_are_unique_across_labs(db):
    _lab(db, "LAB-P")
    lab = _lab(db, "LAB-Q")
    with pytest.raises(service.RoomError, match=r"T/LAB-P/001 is already registered \(LAB-P A1\)"
                       ), db.transaction() as session:
        seat = _seat(session, lab.id, "B1")
        service.save_device(session, seat, asset_number="T/LAB-P/001")


# -- reservations --------------------------------------------------------------------------


@pytest.fixture
def core_only(app):
    only_plugins(app)
    return app


def test_reserve_default_path_grants_a_lab_with_enough_working_seats(core_only, db):
    lab = _lab(db, rows=2, cols=3)
    with db.session() as session:
        answer = service.reserve(session, _request(lab.id, seats=6, ref="42"))
    assert answer.granted, answer.reason
    assert answer.reference == "rooms:LAB-T:cbt:42"


def test_reserve_default_path_refuses_more_seats_than_working_pcs(core_only, db):
    lab = _lab(db, rows=2, cols=3)
    with db.transaction() as session:
        device = _device(session, _seat(session, lab.id, "A1").id)
        service.set_device_status(session, device, "faulty")
    with db.session() as session:
        answer = service.reserve(session, _request(lab.id, seats=6))
    assert not answer.granted
    assert answer.reason == "Lab LAB-T has 5 working seats; 6 were asked for."


def test_reserve_default_path_refuses_an_inactive_or_missing_lab_and_a_bad_span(core_only, db):
    lab = _lab(db)
    with db.transaction() as session:
        service.update_lab(session, session.get(Lab, lab.id), active=False)
    with db.session() as session:
        inactive = service.reserve(session, _request(lab.id, seats=1))
        missing = service.reserve(session, _request(9999, seats=1))
        backwards = service.reserve(session, _request(1, seats=1, hours=-1))
        naive = service.reserve(session, RoomRequest(
            lab_id=1, start=utcnow().replace(tzinfo=None),
            end=utcnow().replace(tzinfo=None) + timedelta(hours=1),
            purpose="x", source="lab", source_ref="1"))
    assert (inactive.granted, inactive.reason) == (False, "Lab LAB-T is not in use (inactive).")
    assert (missing.granted, missing.reason) == (False, "Lab 9999 does not exist.")
    assert (backwards.granted, backwards.reason) == (
        False, "The reservation must end after it starts.")
    assert not naive.granted and "time zone" in naive.reason


class Booker:
    """A plugin that books rooms, like the lab plugin: it keeps its own bookings."""

    RUANG_PLUGIN_NAME = "booker"

    def __init__(self) -> None:
        self.bookings: dict[str, RoomRequest] = {}
        self.released: list[str] = []

    @hookimpl
    def ruang_reserve_room(self, session, request: RoomRequest) -> RoomReservation | None:
        for ref, other in self.bookings.items():
            if other.lab_id == request.lab_id and other.start < request.end \
                    and other.end > request.start:
                return RoomReservation(granted=False, reason="already booked",
                                       conflicts=(ref,))
        ref = f"booker-{len(self.bookings) + 1}"
        self.bookings[ref] = request
        return RoomReservation(granted=True, reference=ref)

    @hookimpl
    def ruang_release_room(self, session, reference: str) -> None:
        if self.bookings.pop(reference, None) is not None:
            self.released.append(reference)

    @hookimpl
    def ruang_room_busy(self, session, lab_id, start, end) -> Sequence[CalendarItem]:
        return [CalendarItem(uid=ref, title=req.purpose, start=req.start, end=req.end,
                             source="booker", lab_id=lab_id)
                for ref, req in self.bookings.items() if req.lab_id == lab_id]


@pytest.fixture
def booker_app(settings):
    booker = Booker()
    app = prepare_test_app(create_app(settings, extra_plugins=[booker]))
    with app.app_context():
        only_plugins(app, "booker")
        yield app, booker
    app.extensions["ruang"].db.dispose()


def test_hook_ruang_reserve_room(booker_app):
    """A plugin that books rooms answers instead of the core; a disabled one is not asked."""
    app, _booker = booker_app
    r = app.extensions["ruang"]
    with r.db.session() as session:
        lab = _lab_by_code(session, "LAB-1")
        first = service.reserve(session, _request(lab.id, seats=10, ref="a"))
        clash = service.reserve(session, _request(lab.id, seats=10, ref="b"))
    assert first.granted and first.reference == "booker-1"
    assert not clash.granted and clash.reason == "already booked"
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "booker", False, actor=None)
    with r.db.session() as session:
        fallback = service.reserve(session, _request(lab.id, seats=10, ref="b"))
    assert fallback.granted and fallback.reference == "rooms:LAB-1:cbt:b"


def test_hook_ruang_release_room(booker_app):
    app, booker = booker_app
    r = app.extensions["ruang"]
    with r.db.session() as session:
        lab = _lab_by_code(session, "LAB-1")
        granted = service.reserve(session, _request(lab.id, ref="a"))
        service.release(session, granted.reference)
        service.release(session, "someone-else's-ref")
        again = service.reserve(session, _request(lab.id, ref="b"))
    assert booker.released == [granted.reference]
    assert again.granted


def test_hook_ruang_room_busy(booker_app):
    """Busy items of enabled plugins, overlapping the asked span only, sorted by start."""
    app, _booker = booker_app
    r = app.extensions["ruang"]
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    with r.db.session() as session:
        lab = _lab_by_code(session, "LAB-1")
        other = _lab_by_code(session, "LAB-2")
        service.reserve(session, _request(lab.id, start=day + timedelta(hours=13), ref="pm"))
        service.reserve(session, _request(lab.id, start=day + timedelta(hours=8), ref="am"))
        service.reserve(session, _request(other.id, start=day + timedelta(hours=8), ref="x"))
        service.reserve(session, _request(lab.id, start=day + timedelta(days=1), ref="later"))
        items = service.busy(session, lab.id, day, day + timedelta(days=1))
        with pytest.raises(service.RoomError):
            service.busy(session, lab.id, day, day)
    assert [i.start.hour for i in items] == [8, 13]
    assert all(i.lab_id == lab.id and i.source == "booker" for i in items)
    # Without a booking plugin the core grants, but lists what keeps the room busy.
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "booker", False, actor=None)
    with r.db.session() as session:
        assert service.busy(session, lab.id, day, day + timedelta(days=1)) == []


def test_default_reservation_lists_busy_items_as_conflicts(settings):
    class BusyOnly:
        RUANG_PLUGIN_NAME = "busyonly"

        @hookimpl
        def ruang_room_busy(self, session, lab_id, start, end):
            return [CalendarItem(uid="t1", title="Diklat Jaringan", start=start, end=end,
                                 source="training", lab_id=lab_id)]

    app = prepare_test_app(create_app(settings, extra_plugins=[BusyOnly()]))
    with app.app_context():
        only_plugins(app, "busyonly")
        r = app.extensions["ruang"]
        with r.db.session() as session:
            lab = _lab_by_code(session, "LAB-1")
            answer = service.reserve(session, _request(lab.id, seats=3))
    r.db.dispose()
    assert answer.granted
    assert answer.conflicts == ("Diklat Jaringan (training)",)


# -- demo data -----------------------------------------------------------------------------


def test_demo_labs_are_there_once_with_one_faulty_pc(db):
    def counts():
        with db.session() as session:
            return (session.scalar(select(func.count()).select_from(Lab)),
                    session.scalar(select(func.count()).select_from(Device)))

    before = counts()
    with db.transaction() as session:
        ensure_demo_labs(session)  # a second run (the template instance ran it already)
    assert counts() == before
    with db.session() as session:
        lab1 = _lab_by_code(session, "LAB-1")
        lab2 = _lab_by_code(session, "LAB-2")
        devices = list(session.scalars(
            select(Device).join(Seat, Seat.id == Device.seat_id).where(Seat.lab_id == lab1.id)
            .order_by(Seat.row, Seat.col)))
        working = service.working_seats(session, lab1.id)
    assert (lab1.name, lab1.rows, lab1.cols) == ("Lab Komputer 1", 5, 8)
    assert (lab2.rows, lab2.cols) == (4, 6)
    assert len(devices) == 40
    assert devices[0].hostname == "lab1-pc01" and devices[0].asset_number == "BPTI/LAB1/001"
    assert [d.status for d in devices].count("faulty") == 1
    assert len(working) == 39
