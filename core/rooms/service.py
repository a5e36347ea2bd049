"""The physical registry as a service: labs, seats, devices, and room reservations.

Plugins use it without HTTP: the CBT plugin seats candidates on :func:`working_seats`, the
lab plugin answers :func:`reserve` through ``ruang_reserve_room``, training and certification
reserve rooms through the same call. Every change is audited in the caller's transaction.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.contracts import CalendarItem, RoomRequest, RoomReservation
from core.db import utcnow
from core.rooms.models import Device, DeviceStatus, Kiosk, Lab, Seat

__all__ = [
    "MAX_COLS", "MAX_ROWS", "LabForm", "RoomError", "SeatCell", "busy", "create_lab",
    "device_at", "get_lab", "lab_by_code", "lab_counts", "labs", "release", "reserve",
    "save_device", "seat_by_label", "seat_label", "seat_map", "seats_of", "set_device_status",
    "set_seat_active", "update_lab", "working_seats",
]

MAX_ROWS = 26  # one letter per row
MAX_COLS = 40
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,98}[A-Za-z0-9])?$")


class RoomError(ValueError):
    """A registry change was refused; the message says which value and why."""


def _t(message: str, **params: Any) -> str:
    """``message`` in the reader's language when there is a reader (a request)."""
    from flask import has_request_context

    if has_request_context():
        from flask_babel import gettext

        return str(gettext(message, **params))
    return message % params if params else message


# -- labs and seats ------------------------------------------------------------------------


def seat_label(row: int, col: int) -> str:
    """``A1`` for the first seat of the first row: rows are letters, columns numbers."""
    return f"{string.ascii_uppercase[row - 1]}{col}"


class LabForm(BaseModel):
    """A lab's editable fields, validated (used by the views and by :func:`create_lab`)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=120)
    rows: int = Field(ge=1, le=MAX_ROWS)
    cols: int = Field(ge=1, le=MAX_COLS)
    building: str = Field(default="", max_length=120)
    floor: str = Field(default="", max_length=20)
    notes: str = Field(default="", max_length=2000)
    active: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.upper()
        if not CODE_RE.match(value):
            raise ValueError("use capital letters, digits, '-' or '_' (for example LAB-1)")
        return value


def _validated(**values: Any) -> LabForm:
    try:
        return LabForm.model_validate(values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "lab"
        raise RoomError(f"{field}: {err['msg']}") from None


def create_lab(
    session: Session,
    code: str,
    name: str,
    rows: int,
    cols: int,
    *,
    building: str = "",
    floor: str = "",
    notes: str = "",
    active: bool = True,
    actor: Any = None,
) -> Lab:
    """Create a lab and its ``rows`` x ``cols`` seats (``A1``, ``A2``... ``B1``...)."""
    form = _validated(code=code, name=name, rows=rows, cols=cols, building=building,
                      floor=floor, notes=notes, active=active)
    if session.scalar(select(Lab.id).where(Lab.code == form.code)) is not None:
        raise RoomError(_t("A lab with code %(code)s already exists.", code=form.code))
    lab = Lab(code=form.code, name=form.name, rows=form.rows, cols=form.cols,
              building=form.building, floor=form.floor, notes=form.notes, active=form.active)
    session.add(lab)
    session.flush()
    session.add_all(
        Seat(lab_id=lab.id, label=seat_label(r, c), row=r, col=c, active=True)
        for r in range(1, form.rows + 1)
        for c in range(1, form.cols + 1)
    )
    session.flush()
    audit(session, "lab.create", actor=actor, object_type="lab", object_id=lab.id,
          details={"code": lab.code, "rows": lab.rows, "cols": lab.cols})
    return lab


def update_lab(session: Session, lab: Lab, *, actor: Any = None, **changes: Any) -> Lab:
    """Change a lab's fields; a new grid size adds seats, or switches off those outside it.

    Seats are kept (exam attempts and bookings refer to them): shrinking the grid makes the
    seats beyond it inactive, and growing it back brings those seats back.
    """
    current = {k: getattr(lab, k) for k in LabForm.model_fields}
    form = _validated(**{**current, **changes})
    if form.code != lab.code and session.scalar(
        select(Lab.id).where(Lab.code == form.code, Lab.id != lab.id)
    ) is not None:
        raise RoomError(_t("A lab with code %(code)s already exists.", code=form.code))
    before = dict(current)
    old_rows, old_cols = lab.rows, lab.cols
    for key, value in form.model_dump().items():
        setattr(lab, key, value)
    if (form.rows, form.cols) != (old_rows, old_cols):
        existing = {(s.row, s.col): s for s in session.scalars(
            select(Seat).where(Seat.lab_id == lab.id))}
        for r in range(1, max(form.rows, old_rows) + 1):
            for c in range(1, max(form.cols, old_cols) + 1):
                inside = r <= form.rows and c <= form.cols
                was_inside = r <= old_rows and c <= old_cols
                seat = existing.get((r, c))
                if seat is None:
                    if inside:
                        session.add(Seat(lab_id=lab.id, label=seat_label(r, c), row=r, col=c,
                                         active=True))
                elif inside and not was_inside:
                    seat.active = True
                elif was_inside and not inside:
                    seat.active = False
    session.flush()
    after = {k: getattr(lab, k) for k in LabForm.model_fields}
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        audit(session, "lab.update", actor=actor, object_type="lab", object_id=lab.id,
              details=diff)
    return lab


def get_lab(session: Session, lab_id: int) -> Lab | None:
    return session.get(Lab, lab_id)


def lab_by_code(session: Session, code: str) -> Lab | None:
    return session.scalar(select(Lab).where(Lab.code == code.strip().upper()))


def labs(session: Session, *, include_inactive: bool = True) -> list[Lab]:
    stmt = select(Lab).order_by(Lab.code)
    if not include_inactive:
        stmt = stmt.where(Lab.active.is_(True))
    return list(session.scalars(stmt))


def seats_of(session: Session, lab_id: int, *, include_inactive: bool = True) -> list[Seat]:
    """The lab's seats, row by row."""
    stmt = select(Seat).where(Seat.lab_id == lab_id).order_by(Seat.row, Seat.col)
    if not include_inactive:
        stmt = stmt.where(Seat.active.is_(True))
    return list(session.scalars(stmt))


def seat_by_label(session: Session, lab_id: int, label: str) -> Seat | None:
    return session.scalar(
        select(Seat).where(Seat.lab_id == lab_id, Seat.label == label.strip().upper())
    )


def set_seat_active(session: Session, seat: Seat, active: bool, *, actor: Any = None,
                    reason: str = "") -> bool:
    """Switch a seat on or off (a pillar, a broken table); returns whether it changed."""
    lab = session.get(Lab, seat.lab_id)
    if active and lab is not None and (seat.row > lab.rows or seat.col > lab.cols):
        raise RoomError(_t("Seat %(label)s is outside the lab's grid; enlarge the grid first.",
                           label=seat.label))
    if seat.active == active:
        return False
    seat.active = active
    session.flush()
    audit(session, "seat.enable" if active else "seat.disable", actor=actor,
          object_type="seat", object_id=seat.id,
          details={"lab_id": seat.lab_id, "label": seat.label, "reason": reason})
    return True


def working_seats(session: Session, lab_id: int) -> list[Seat]:
    """Active seats whose PC is working, row by row: where candidates can sit."""
    stmt = (
        select(Seat)
        .join(Device, Device.seat_id == Seat.id)
        .where(Seat.lab_id == lab_id, Seat.active.is_(True),
               Device.status == DeviceStatus.WORKING.value)
        .order_by(Seat.row, Seat.col)
    )
    return list(session.scalars(stmt))


# -- devices -------------------------------------------------------------------------------


def device_at(session: Session, seat_id: int) -> Device | None:
    return session.scalar(select(Device).where(Device.seat_id == seat_id))


def save_device(
    session: Session,
    seat: Seat,
    *,
    asset_number: str,
    hostname: str = "",
    notes: str = "",
    actor: Any = None,
) -> Device:
    """Describe the PC at ``seat`` (creating it when the seat has none)."""
    asset_number = asset_number.strip()
    hostname = hostname.strip()
    if not asset_number or len(asset_number) > 60:
        raise RoomError(_t("The asset number is required (at most 60 characters)."))
    if hostname and not HOSTNAME_RE.match(hostname):
        raise RoomError(_t("Host name %(name)s is not valid: use letters, digits, '-' and '.'.",
                           name=hostname))
    if len(notes) > 2000:
        raise RoomError(_t("Notes are at most 2000 characters."))
    device = device_at(session, seat.id)
    clash = session.scalar(select(Device).where(Device.asset_number == asset_number))
    if clash is not None and clash is not device:
        where = ""
        if clash.seat_id is not None:
            other = session.get(Seat, clash.seat_id)
            other_lab = session.get(Lab, other.lab_id) if other else None
            where = f" ({other_lab.code} {other.label})" if other and other_lab else ""
        raise RoomError(_t("Asset number %(asset)s is already registered%(where)s.",
                           asset=asset_number, where=where))
    if device is None:
        device = Device(seat_id=seat.id, asset_number=asset_number, hostname=hostname,
                        notes=notes, status=DeviceStatus.WORKING.value)
        session.add(device)
        session.flush()
        audit(session, "device.create", actor=actor, object_type="device", object_id=device.id,
              details={"seat_id": seat.id, "asset_number": asset_number, "hostname": hostname})
        return device
    before = {"asset_number": device.asset_number, "hostname": device.hostname,
              "notes": device.notes}
    device.asset_number, device.hostname, device.notes = asset_number, hostname, notes
    after = {"asset_number": asset_number, "hostname": hostname, "notes": notes}
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        device.updated_at = utcnow()
        session.flush()
        audit(session, "device.update", actor=actor, object_type="device", object_id=device.id,
              details=diff)
    return device


def set_device_status(session: Session, device: Device, status: str, actor: Any = None,
                      reason: str = "") -> bool:
    """Mark a PC working, faulty or in repair; audited with the reason. Returns whether it
    changed. A faulty or in-repair PC drops out of :func:`working_seats` at once."""
    try:
        new = DeviceStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in DeviceStatus)
        raise RoomError(_t("Unknown device status %(status)s; use one of: %(allowed)s.",
                           status=status, allowed=allowed)) from None
    reason = reason.strip()
    if len(reason) > 500:
        raise RoomError(_t("The reason is at most 500 characters."))
    if device.status == new.value:
        return False
    old = device.status
    device.status = new.value
    device.updated_at = utcnow()
    session.flush()
    audit(session, "device.status", actor=actor, object_type="device", object_id=device.id,
          details={"from": old, "to": new.value, "reason": reason, "seat_id": device.seat_id,
                   "asset_number": device.asset_number})
    return True


# -- the seat map --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatCell:
    """One seat as the seat map shows it."""

    seat: Seat
    device: Device | None
    kiosk: Kiosk | None
    online: bool

    @property
    def state(self) -> str:
        """``inactive``, ``no_device``, or the device status."""
        if not self.seat.active:
            return "inactive"
        if self.device is None:
            return "no_device"
        return self.device.status


def seat_map(session: Session, lab_id: int, now: datetime | None = None) -> list[list[SeatCell]]:
    """The lab's grid, row by row, with each seat's PC, kiosk and online state.

    Seats outside the lab's current grid (after it shrank) are left out.
    """
    from core.rooms.kiosks import is_online

    lab = session.get(Lab, lab_id)
    if lab is None:
        return []
    now = now or utcnow()
    seats = [s for s in seats_of(session, lab_id) if s.row <= lab.rows and s.col <= lab.cols]
    ids = [s.id for s in seats]
    devices = {d.seat_id: d for d in session.scalars(select(Device).where(Device.seat_id.in_(ids)))}
    kiosks = {k.seat_id: k for k in session.scalars(
        select(Kiosk).where(Kiosk.seat_id.in_(ids), Kiosk.revoked_at.is_(None))
        .order_by(Kiosk.enrolled_at))}
    grid: list[list[SeatCell]] = [[] for _ in range(lab.rows)]
    for seat in seats:
        kiosk = kiosks.get(seat.id)
        grid[seat.row - 1].append(SeatCell(seat, devices.get(seat.id), kiosk,
                                           kiosk is not None and is_online(kiosk, now)))
    return grid


def lab_counts(session: Session, lab_id: int) -> dict[str, int]:
    """Seats, working PCs, PCs not working, and enrolled kiosks of a lab."""
    lab = session.get(Lab, lab_id)
    if lab is None:
        return {}
    active_seats = session.scalar(
        select(func.count()).select_from(Seat).where(Seat.lab_id == lab_id, Seat.active.is_(True))
    ) or 0
    statuses = dict(session.execute(
        select(Device.status, func.count()).join(Seat, Seat.id == Device.seat_id)
        .where(Seat.lab_id == lab_id, Seat.active.is_(True)).group_by(Device.status)
    ).all())
    kiosks = session.scalar(
        select(func.count()).select_from(Kiosk).join(Seat, Seat.id == Kiosk.seat_id)
        .where(Seat.lab_id == lab_id, Kiosk.revoked_at.is_(None))
    ) or 0
    working = int(statuses.get(DeviceStatus.WORKING.value, 0))
    broken = sum(int(v) for k, v in statuses.items() if k != DeviceStatus.WORKING.value)
    return {"seats": int(active_seats), "working": working, "not_working": broken,
            "kiosks": int(kiosks)}


# -- reservations --------------------------------------------------------------------------


def _host() -> Any:
    from core.instance import ruang

    return ruang().plugins


def reserve(session: Session, request: RoomRequest) -> RoomReservation:
    """Ask for a lab (or ``request.seats`` of its seats) from ``start`` to ``end``.

    An enabled plugin that books rooms (the lab plugin) answers through
    ``ruang_reserve_room``. Without one, the core checks its own registry: the span is
    sane, the lab exists and is in use, and it has enough working seats; it then grants
    the request with a reference (``rooms:<lab code>:<source>:<source_ref>``), listing in
    ``conflicts`` whatever ``ruang_room_busy`` reports for that span, because the core
    itself keeps no bookings. A refusal carries the reason, ready to show.
    """
    answer = _host().hook.ruang_reserve_room(session=session, request=request)
    if answer is not None:
        return answer
    return _reserve_from_registry(session, request)


def _refused(reason: str) -> RoomReservation:
    return RoomReservation(granted=False, reason=reason)


def _reserve_from_registry(session: Session, request: RoomRequest) -> RoomReservation:
    if request.start.tzinfo is None or request.end.tzinfo is None:
        return _refused(_t("The start and end times need a time zone."))
    if request.end <= request.start:
        return _refused(_t("The reservation must end after it starts."))
    lab = session.get(Lab, request.lab_id)
    if lab is None:
        return _refused(_t("Lab %(id)s does not exist.", id=request.lab_id))
    if not lab.active:
        return _refused(_t("Lab %(code)s is not in use (inactive).", code=lab.code))
    working = len(working_seats(session, lab.id))
    if request.seats is not None and request.seats < 1:
        return _refused(_t("Ask for at least one seat."))
    needed = request.seats if request.seats is not None else 1
    if needed > working:
        return _refused(_t("Lab %(code)s has %(working)s working seats; %(needed)s were asked for.",
                           code=lab.code, working=working, needed=needed))
    conflicts = tuple(f"{item.title} ({item.source})"
                      for item in busy(session, lab.id, request.start, request.end))
    reference = f"rooms:{lab.code}:{request.source}:{request.source_ref}"
    return RoomReservation(granted=True, reference=reference, conflicts=conflicts)


def release(session: Session, reference: str) -> None:
    """Release a reservation :func:`reserve` granted; plugins that don't know it ignore it."""
    _host().hook.ruang_release_room(session=session, reference=reference)


def busy(session: Session, lab_id: int, start: datetime, end: datetime) -> list[CalendarItem]:
    """What keeps lab ``lab_id`` busy between ``start`` and ``end``, from every enabled plugin,
    sorted by start. Only items that overlap the span are kept."""
    if end <= start:
        raise RoomError(_t("The span must end after it starts."))
    found: Sequence[CalendarItem] = _host().collect(
        "ruang_room_busy", session=session, lab_id=lab_id, start=start, end=end
    )
    return sorted((i for i in found if i.start < end and i.end > start), key=lambda i: i.start)
