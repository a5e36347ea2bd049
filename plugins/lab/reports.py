"""Utilisation of each lab per month: hours open, booked, reserved, closed and really used.

"Open" hours come from the lab's opening hours and days. "Booked" counts approved sessions
(including the ones nobody came to), "reserved" the holds of other plugins (CBT, training,
certification), "used" the time between check-in and check-out. The SOP's indicator
"lab borrowing available" is read from these figures and from the requests' outcomes.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.rooms import service as rooms
from core.rooms.models import Lab
from plugins.lab import catalog
from plugins.lab.models import (
    Hold,
    HoldKind,
    LabRequest,
    Occurrence,
    OccurrenceStatus,
    Repair,
)
from plugins.lab.timeslots import at_local, local, month_bounds, timezone


def _overlap_hours(a: datetime, b: datetime, start: datetime, end: datetime) -> float:
    lo, hi = max(a, start), min(b, end)
    return max(0.0, (hi - lo).total_seconds() / 3600)


@dataclass
class LabMonth:
    lab: Lab
    year: int
    month: int
    open_hours: float = 0.0
    booked_hours: float = 0.0
    reserved_hours: float = 0.0
    closed_hours: float = 0.0
    used_hours: float = 0.0
    sessions: int = 0
    no_shows: int = 0
    attendees: int = 0
    repairs: int = 0
    requests: int = 0
    rejected: int = 0
    by_unit: Counter[str] = field(default_factory=Counter)
    days: list[tuple[date, float, float, float]] = field(default_factory=list)

    @property
    def utilisation(self) -> float:
        """Share of open hours taken by bookings and reservations (0..1)."""
        if self.open_hours <= 0:
            return 0.0
        return min(1.0, (self.booked_hours + self.reserved_hours) / self.open_hours)

    @property
    def usage(self) -> float:
        """Share of open hours the lab was really used (checked in)."""
        if self.open_hours <= 0:
            return 0.0
        return min(1.0, self.used_hours / self.open_hours)


def month_report(session: Session, lab: Lab, year: int, month: int,
                 now: datetime | None = None) -> LabMonth:
    moment = now or utcnow()
    tz = timezone()
    start, end = month_bounds(year, month, tz)
    prof = catalog.profile(session, lab.id)
    out = LabMonth(lab=lab, year=year, month=month)
    daily: dict[date, list[float]] = {}
    day = local(start, tz).date()
    while at_local(day, time(0), tz) < end:
        open_h = 0.0
        if str(day.isoweekday()) in prof.open_days:
            a, b = at_local(day, prof.open_from, tz), at_local(day, prof.open_until, tz)
            open_h = (b - a).total_seconds() / 3600
        out.open_hours += open_h
        daily[day] = [0.0, 0.0, 0.0]  # booked+reserved, used, open
        daily[day][2] = open_h
        day += timedelta(days=1)

    def spread(a: datetime, b: datetime, slot: int) -> None:
        cursor = local(max(a, start), tz).date()
        while cursor in daily:
            d0 = at_local(cursor, time(0), tz)
            if d0 >= min(b, end):
                break
            daily[cursor][slot] += _overlap_hours(a, b, d0, d0 + timedelta(days=1))
            cursor += timedelta(days=1)

    occs = session.execute(
        select(Occurrence, LabRequest).join(LabRequest)
        .where(Occurrence.lab_id == lab.id, Occurrence.starts_at < end,
               Occurrence.ends_at > start)).all()
    for occ, req in occs:
        if occ.status not in (OccurrenceStatus.BOOKED, OccurrenceStatus.CHECKED_IN,
                              OccurrenceStatus.DONE, OccurrenceStatus.NO_SHOW):
            continue
        hours = _overlap_hours(occ.starts_at, occ.ends_at, start, end)
        out.booked_hours += hours
        spread(occ.starts_at, occ.ends_at, 0)
        out.sessions += 1
        out.by_unit[req.requester_unit or req.requester_name] += 1
        if occ.status == OccurrenceStatus.NO_SHOW:
            out.no_shows += 1
        if occ.checked_in_at is not None:
            until = occ.checked_out_at or min(moment, occ.ends_at)
            out.used_hours += _overlap_hours(occ.checked_in_at, until, start, end)
            spread(occ.checked_in_at, until, 1)
            out.attendees += occ.attendees or 0
    for hold in session.scalars(select(Hold).where(
            Hold.lab_id == lab.id, Hold.starts_at < end, Hold.ends_at > start,
            Hold.kind != HoldKind.BOOKING.value)):
        hours = _overlap_hours(hold.starts_at, hold.ends_at, start, end)
        if hold.kind == HoldKind.RESERVATION:
            out.reserved_hours += hours
            spread(hold.starts_at, hold.ends_at, 0)
        else:
            out.closed_hours += hours
    out.requests = len(set(session.scalars(select(LabRequest.id).where(
        LabRequest.lab_id == lab.id, LabRequest.created_at >= start,
        LabRequest.created_at < end))))
    out.rejected = len(set(session.scalars(select(LabRequest.id).where(
        LabRequest.lab_id == lab.id, LabRequest.created_at >= start,
        LabRequest.created_at < end, LabRequest.state == "rejected"))))
    out.repairs = len(set(session.scalars(select(Repair.id).where(
        Repair.lab_id == lab.id, Repair.reported_at >= start, Repair.reported_at < end))))
    out.days = [(d, round(v[0], 2), round(v[1], 2), round(v[2], 2))
                for d, v in sorted(daily.items())]
    return out


def all_labs(session: Session, year: int, month: int) -> list[LabMonth]:
    return [month_report(session, lab, year, month) for lab in rooms.labs(session)]


def to_csv(reports: list[LabMonth]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["lab", "month", "open_hours", "booked_hours", "reserved_hours",
                     "closed_hours", "used_hours", "utilisation_pct", "usage_pct", "sessions",
                     "no_shows", "attendees", "requests", "rejected", "repairs"])
    for r in reports:
        writer.writerow([r.lab.code, f"{r.year}-{r.month:02d}", round(r.open_hours, 1),
                         round(r.booked_hours, 1), round(r.reserved_hours, 1),
                         round(r.closed_hours, 1), round(r.used_hours, 1),
                         round(r.utilisation * 100, 1), round(r.usage * 100, 1), r.sessions,
                         r.no_shows, r.attendees, r.requests, r.rejected, r.repairs])
    return buf.getvalue()
