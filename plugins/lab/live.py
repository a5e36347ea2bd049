"""Live lab sessions: what each seat is doing now, who sits where, and the usage log.

A seat's live state combines the core registry (the PC's status, the kiosk's heartbeat)
with this plugin's session data (the seat taken by someone during a checked-in session).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from core.rooms import service as rooms
from core.rooms.models import DeviceStatus, Lab, Seat
from plugins.lab import holds, repairs
from plugins.lab.errors import N_, LabError
from plugins.lab.models import (
    LabRequest,
    Occurrence,
    OccurrenceStatus,
    SeatUse,
    UsageEntry,
    UsageKind,
)
from plugins.lab.timeslots import local

#: The live states of a seat, from most to least urgent for whoever watches the lab.
STATES = ("faulty", "in_repair", "in_use", "online", "offline", "no_device", "inactive")


@dataclass(frozen=True)
class LiveSeat:
    seat_id: int
    label: str
    row: int
    col: int
    state: str
    online: bool
    device_status: str | None
    asset_number: str
    hostname: str
    occupant: str
    last_seen: datetime | None
    repair_number: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.seat_id, "label": self.label, "row": self.row, "col": self.col,
            "state": self.state, "online": self.online, "device": self.device_status,
            "asset": self.asset_number, "host": self.hostname, "occupant": self.occupant,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "repair": self.repair_number,
        }


@dataclass(frozen=True)
class LiveLab:
    lab: Lab
    rows: list[list[LiveSeat]]
    current: tuple[Occurrence, LabRequest] | None
    counts: dict[str, int]
    now: datetime

    def as_json(self) -> dict[str, Any]:
        current = None
        if self.current is not None:
            occ, req = self.current
            current = {"occurrence": occ.id, "request": req.id, "number": req.number,
                       "purpose": req.purpose, "status": occ.status,
                       "start": local(occ.starts_at).strftime("%H:%M"),
                       "end": local(occ.ends_at).strftime("%H:%M")}
        return {"lab": self.lab.code, "now": self.now.isoformat(), "counts": self.counts,
                "current": current,
                "seats": [s.as_json() for row in self.rows for s in row]}


def current_session(session: Session, lab_id: int,
                    now: datetime | None = None) -> tuple[Occurrence, LabRequest] | None:
    """The checked-in session of the lab, else the booked one happening now."""
    moment = now or utcnow()
    rows = session.execute(
        select(Occurrence, LabRequest).join(LabRequest)
        .where(Occurrence.lab_id == lab_id,
               Occurrence.status.in_([OccurrenceStatus.CHECKED_IN.value,
                                      OccurrenceStatus.BOOKED.value]),
               Occurrence.starts_at <= moment + holds_early(), Occurrence.ends_at > moment)
        .order_by(Occurrence.status != OccurrenceStatus.CHECKED_IN.value,
                  Occurrence.starts_at)).first()
    if rows is not None:
        return rows[0], rows[1]
    checked_in = session.execute(
        select(Occurrence, LabRequest).join(LabRequest)
        .where(Occurrence.lab_id == lab_id,
               Occurrence.status == OccurrenceStatus.CHECKED_IN.value)).first()
    return (checked_in[0], checked_in[1]) if checked_in else None


def holds_early() -> Any:
    from plugins.lab.requests import CHECK_IN_EARLY

    return CHECK_IN_EARLY


def open_uses(session: Session, lab_id: int) -> dict[int, SeatUse]:
    stmt = (select(SeatUse).join(Seat, Seat.id == SeatUse.seat_id)
            .where(Seat.lab_id == lab_id, SeatUse.ended_at.is_(None)))
    return {u.seat_id: u for u in session.scalars(stmt)}


def live(session: Session, lab: Lab, now: datetime | None = None) -> LiveLab:
    moment = now or utcnow()
    uses = open_uses(session, lab.id)
    open_repairs = {r.device_id: r.number for r in repairs.repairs(session, lab_id=lab.id,
                                                                   open_only=True)}
    rows: list[list[LiveSeat]] = []
    counts = dict.fromkeys(STATES, 0)
    for grid_row in rooms.seat_map(session, lab.id, moment):
        out_row = []
        for cell in grid_row:
            seat, device, kiosk = cell.seat, cell.device, cell.kiosk
            use = uses.get(seat.id)
            if not seat.active:
                state = "inactive"
            elif device is None:
                state = "no_device"
            elif device.status == DeviceStatus.FAULTY:
                state = "faulty"
            elif device.status == DeviceStatus.IN_REPAIR:
                state = "in_repair"
            elif use is not None:
                state = "in_use"
            elif cell.online:
                state = "online"
            else:
                state = "offline"
            counts[state] += 1
            out_row.append(LiveSeat(
                seat_id=seat.id, label=seat.label, row=seat.row, col=seat.col, state=state,
                online=cell.online, device_status=device.status if device else None,
                asset_number=device.asset_number if device else "",
                hostname=device.hostname if device else "",
                occupant=use.occupant if use else "",
                last_seen=kiosk.last_seen_at if kiosk else None,
                repair_number=open_repairs.get(device.id, "") if device else ""))
        rows.append(out_row)
    counts["online_total"] = sum(1 for r in rows for s in r if s.online)
    return LiveLab(lab=lab, rows=rows, current=current_session(session, lab.id, moment),
                   counts=counts, now=moment)


def take_seat(session: Session, occ: Occurrence, seat: Seat, occupant: str, actor: Any) -> SeatUse:
    """Someone of a checked-in session sits at ``seat`` (a name or student number)."""
    if occ.status != OccurrenceStatus.CHECKED_IN:
        raise LabError(N_("Seats can be taken only during a checked-in session."))
    if seat.lab_id != occ.lab_id or not seat.active:
        raise LabError(N_("That seat is not in this lab."))
    device = rooms.device_at(session, seat.id)
    if device is not None and device.status != DeviceStatus.WORKING:
        raise LabError(N_("The PC at %(seat)s is faulty; choose another seat."), seat=seat.label)
    occupant = occupant.strip()[:120]
    existing = session.scalars(select(SeatUse).where(SeatUse.seat_id == seat.id,
                                                     SeatUse.ended_at.is_(None))).first()
    if existing is not None:
        if existing.occupant == occupant and existing.occurrence_id == occ.id:
            return existing
        raise LabError(N_("Seat %(seat)s is already taken by %(who)s."), seat=seat.label,
                       who=existing.occupant or "-")
    use = SeatUse(occurrence_id=occ.id, seat_id=seat.id, occupant=occupant)
    session.add(use)
    session.add(UsageEntry(lab_id=seat.lab_id, occurrence_id=occ.id, seat_id=seat.id,
                           kind=UsageKind.SEAT_TAKEN.value, actor_id=getattr(actor, "id", None),
                           occupant=occupant))
    session.flush()
    audit(session, "lab.seat.take", actor=actor, object_type="seat", object_id=seat.id,
          details={"occurrence": occ.id, "occupant": occupant})
    return use


def free_seat(session: Session, seat: Seat, actor: Any) -> bool:
    use = session.scalars(select(SeatUse).where(SeatUse.seat_id == seat.id,
                                                SeatUse.ended_at.is_(None))).first()
    if use is None:
        return False
    use.ended_at = utcnow()
    session.add(UsageEntry(lab_id=seat.lab_id, occurrence_id=use.occurrence_id,
                           seat_id=seat.id, kind=UsageKind.SEAT_FREED.value,
                           actor_id=getattr(actor, "id", None), occupant=use.occupant))
    session.flush()
    audit(session, "lab.seat.free", actor=actor, object_type="seat", object_id=seat.id,
          details={"occurrence": use.occurrence_id, "occupant": use.occupant})
    return True


def note(session: Session, lab: Lab, text: str, actor: Any,
         occ: Occurrence | None = None) -> UsageEntry:
    """A free-text remark in the usage log (a visitor, a power cut, a lost item)."""
    text = text.strip()
    if not text or len(text) > 1000:
        raise LabError(N_("A note is 1 to 1000 characters."))
    entry = UsageEntry(lab_id=lab.id, occurrence_id=occ.id if occ else None,
                       kind=UsageKind.NOTE.value, actor_id=getattr(actor, "id", None),
                       details={"text": text})
    session.add(entry)
    session.flush()
    audit(session, "lab.usage.note", actor=actor, object_type="lab", object_id=lab.id,
          details={"text": text})
    return entry


def usage_log(session: Session, *, lab_id: int | None = None, start: datetime | None = None,
              end: datetime | None = None, limit: int = 500) -> Sequence[UsageEntry]:
    stmt = select(UsageEntry).order_by(UsageEntry.at.desc(), UsageEntry.id.desc()).limit(limit)
    if lab_id is not None:
        stmt = stmt.where(UsageEntry.lab_id == lab_id)
    if start is not None:
        stmt = stmt.where(UsageEntry.at >= start)
    if end is not None:
        stmt = stmt.where(UsageEntry.at < end)
    return list(session.scalars(stmt))


def block(session: Session, lab: Lab, start: datetime, end: datetime, reason: str,
          actor: Any) -> str:
    """Close the lab for a span (maintenance, an installation day); refused if booked."""
    from plugins.lab.models import HoldKind

    reason = reason.strip()
    if not 3 <= len(reason) <= 200:
        raise LabError(N_("Give the reason for closing the lab (3 to 200 characters)."))
    if end <= start:
        raise LabError(N_("The end time must be after the start time."))
    hold = holds.place(session, lab_id=lab.id, start=start, end=end, kind=HoldKind.BLOCK,
                       title=reason, reference=holds.new_reference("LAB-BLK"),
                       source="lab", source_ref=f"block:{lab.id}",
                       created_by=getattr(actor, "id", None))
    audit(session, "lab.block", actor=actor, object_type="lab", object_id=lab.id,
          details={"reference": hold.reference, "start": start.isoformat(),
                   "end": end.isoformat(), "reason": reason})
    return hold.reference


def unblock(session: Session, reference: str, actor: Any) -> None:
    from plugins.lab.models import Hold, HoldKind

    hold = session.scalar(select(Hold).where(Hold.reference == reference,
                                             Hold.kind == HoldKind.BLOCK.value))
    if hold is None:
        raise LabError(N_("No such closure."))
    audit(session, "lab.unblock", actor=actor, object_type="lab", object_id=hold.lab_id,
          details={"reference": reference, "reason": hold.title})
    session.delete(hold)
    session.flush()
