"""Calendars of the labs: the day, week and month pages and the iCal feeds.

One list of entries per span, from three places: this plugin's booked sessions, closures
and pending requests; every enabled plugin's calendar items for labs (CBT sessions,
trainings, certification sessions, through ``core.calendar``); and reservations this plugin
holds for a plugin that does not list them itself (switched off since, say), so nothing that
keeps a lab busy is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import calendar as core_calendar
from core.contracts import CalendarItem
from core.rooms import service as rooms
from core.rooms.models import Lab
from plugins.lab import catalog
from plugins.lab.models import (
    Hold,
    HoldKind,
    LabRequest,
    Occurrence,
    OccurrenceStatus,
    RequestState,
)
from plugins.lab.timeslots import at_local, local, timezone

VIEWS = ("day", "week", "month")
FEED_PAST = timedelta(days=60)
FEED_FUTURE = timedelta(days=200)


@dataclass(frozen=True)
class Entry:
    """One thing on a lab's calendar, on the campus clock."""

    uid: str
    lab_id: int | None
    title: str
    start: datetime
    end: datetime
    kind: str  # booking, pending, block, reservation, or another plugin's source
    source: str
    url: str = ""
    status: str = ""

    def top_pct(self, day_start: int, day_end: int) -> float:
        minutes = (self.start.hour - day_start) * 60 + self.start.minute
        return max(0.0, min(100.0, minutes / ((day_end - day_start) * 60) * 100))

    def height_pct(self, day_start: int, day_end: int) -> float:
        mins = (self.end - self.start).total_seconds() / 60
        return max(2.5, min(100.0, mins / ((day_end - day_start) * 60) * 100))


def span_of(view: str, anchor: date) -> tuple[date, date]:
    """First day and the day after the last day of ``view`` around ``anchor``."""
    if view == "day":
        return anchor, anchor + timedelta(days=1)
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=7)
    first = anchor.replace(day=1)
    grid_start = first - timedelta(days=first.weekday())
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    grid_end = nxt + timedelta(days=(7 - nxt.weekday()) % 7)
    return grid_start, grid_end


def step(view: str, anchor: date, forward: bool) -> date:
    sign = 1 if forward else -1
    if view == "day":
        return anchor + timedelta(days=sign)
    if view == "week":
        return anchor + timedelta(weeks=sign)
    month = anchor.month + sign
    year = anchor.year + (month > 12) - (month < 1)
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def entries(session: Session, start: datetime, end: datetime, user: Any, *,
            lab_id: int | None = None, include_pending: bool = False) -> list[Entry]:
    tz = timezone()
    out: list[Entry] = []
    seen_uids: set[str] = set()
    items: Sequence[CalendarItem] = core_calendar.items(session, start, end, user=user,
                                                        lab_id=lab_id)
    reservations = [h for h in session.scalars(select(Hold).where(
        Hold.kind == HoldKind.RESERVATION.value, Hold.starts_at < end, Hold.ends_at > start))
        if lab_id is None or h.lab_id == lab_id]
    listed_sources: set[tuple[str, int | None]] = set()
    for item in items:
        if item.lab_id is None:
            continue
        if item.uid in seen_uids:
            continue
        seen_uids.add(item.uid)
        if item.source == "lab":
            kind = "block" if item.uid.startswith("lab-hold-") else "booking"
        else:
            kind = item.source
            listed_sources.add((item.source, item.lab_id))
        out.append(Entry(item.uid, item.lab_id, item.title, local(item.start, tz),
                         local(item.end, tz), kind, item.source, item.url))
    for hold in reservations:
        # A reservation whose plugin shows its own sessions is already on the calendar.
        if (hold.source, hold.lab_id) in listed_sources:
            continue
        out.append(Entry(f"lab-hold-{hold.id}", hold.lab_id, hold.title or hold.source,
                         local(hold.starts_at, tz), local(hold.ends_at, tz), "reservation",
                         hold.source))
    if include_pending:
        stmt = (select(Occurrence, LabRequest).join(LabRequest)
                .where(Occurrence.starts_at < end, Occurrence.ends_at > start,
                       Occurrence.status == OccurrenceStatus.REQUESTED.value,
                       LabRequest.state == RequestState.SUBMITTED.value))
        if lab_id is not None:
            stmt = stmt.where(Occurrence.lab_id == lab_id)
        for occ, req in session.execute(stmt):
            out.append(Entry(f"lab-req-{occ.id}", occ.lab_id, f"{req.number} {req.purpose}",
                             local(occ.starts_at, tz), local(occ.ends_at, tz), "pending", "lab",
                             f"/lab/requests/{req.id}", status=req.state))
    return sorted(out, key=lambda e: (e.start, e.lab_id or 0))


@dataclass
class CalendarPage:
    view: str
    anchor: date
    days: list[date]
    labs: list[Lab]
    entries: list[Entry]
    hour_from: int
    hour_to: int

    def on(self, day: date, lab_id: int | None = None) -> list[Entry]:
        return [e for e in self.entries if e.start.date() <= day <= e.end.date()
                and (lab_id is None or e.lab_id == lab_id)
                and not (e.end.date() == day and e.end.time() == time(0) and e.start.date() != day)]

    def lab_code(self, lab_id: int | None) -> str:
        for lab in self.labs:
            if lab.id == lab_id:
                return lab.code
        return ""

    @property
    def hours(self) -> list[int]:
        return list(range(self.hour_from, self.hour_to))

    @property
    def weeks(self) -> list[list[date]]:
        return [self.days[i:i + 7] for i in range(0, len(self.days), 7)]


def page(session: Session, view: str, anchor: date, user: Any, *, lab: Lab | None = None,
         include_pending: bool = False) -> CalendarPage:
    if view not in VIEWS:
        view = "week"
    first, after = span_of(view, anchor)
    tz = timezone()
    start, end = at_local(first, time(0), tz), at_local(after, time(0), tz)
    found = entries(session, start, end, user, lab_id=lab.id if lab else None,
                    include_pending=include_pending)
    labs = [lab] if lab else rooms.labs(session, include_inactive=False)
    profiles = [catalog.profile(session, lab_.id) for lab_ in labs]
    hour_from = min([p.open_from.hour for p in profiles] + [7])
    hour_to = max([p.open_until.hour + (p.open_until.minute > 0) for p in profiles] + [18])
    for e in found:
        if e.start.date() == e.end.date():
            hour_from = min(hour_from, e.start.hour)
            hour_to = max(hour_to, e.end.hour + (e.end.minute > 0))
    days = [first + timedelta(days=i) for i in range((after - first).days)]
    return CalendarPage(view, anchor, days, labs, found, hour_from, min(24, hour_to))


def feed(session: Session, lab: Lab | None, now: datetime) -> bytes:
    """The iCal document of one lab (or all labs): a span around now."""
    from plugins.lab.reservations import calendar_items

    start, end = now - FEED_PAST, now + FEED_FUTURE
    items = core_calendar.items(session, start, end, user=None, lab_id=lab.id if lab else None)
    # The feed's address is a secret staff hand out, so this plugin's own entries carry
    # their purpose; other plugins decide for themselves what a guest sees.
    found = [i for i in items if i.lab_id is not None and i.source != "lab"]
    found += [i for i in calendar_items(session, start, end, None, detailed=True)
              if lab is None or i.lab_id == lab.id]
    uids = {i.uid for i in found}
    sources = {(i.source, i.lab_id) for i in found if i.source != "lab"}
    codes = {lab_.id: lab_.code for lab_ in rooms.labs(session)}
    for hold in session.scalars(select(Hold).where(
            Hold.kind == HoldKind.RESERVATION.value, Hold.starts_at < now + FEED_FUTURE,
            Hold.ends_at > now - FEED_PAST)):
        if lab is not None and hold.lab_id != lab.id:
            continue
        if (hold.source, hold.lab_id) in sources or f"lab-hold-{hold.id}" in uids:
            continue
        found.append(CalendarItem(uid=f"lab-hold-{hold.id}", title=hold.title or hold.source,
                                  start=hold.starts_at, end=hold.ends_at, source=hold.source,
                                  lab_id=hold.lab_id))
    from plugins.lab.notices import link

    found = [CalendarItem(
        uid=i.uid, title=f"[{codes.get(i.lab_id or 0, '?')}] {i.title}" if lab is None else i.title,
        start=i.start, end=i.end, source=i.source, lab_id=i.lab_id,
        url=link(i.url) if i.url.startswith("/") else i.url) for i in found]
    found.sort(key=lambda i: i.start)
    name = f"Lab {lab.code} {lab.name}" if lab else "Lab ICT BPTI"
    document = core_calendar.to_ical(found, name=name)
    # Calendar apps show where an event is: add the room to each event the core wrote.
    places = {f"{i.uid}@ruang": _place(rooms.get_lab(session, i.lab_id)) for i in found
              if i.lab_id is not None}
    cal = icalendar.Calendar.from_ical(document)
    for event in cal.walk("VEVENT"):
        place = places.get(str(event.get("UID", "")))
        if place:
            event.add("location", place)
    return bytes(cal.to_ical())


def _place(lab: Lab | None) -> str:
    if lab is None:
        return ""
    parts = [f"{lab.code} {lab.name}", lab.building, f"lt. {lab.floor}" if lab.floor else ""]
    return ", ".join(p for p in parts if p)
