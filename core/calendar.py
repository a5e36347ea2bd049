"""One calendar across plugins: what happens in which lab, from every enabled plugin.

Plugins contribute through ``ruang_calendar_items``; the lab plugin's bookings, CBT sessions,
trainings and certification sessions all land in the same list and the same iCal feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from core.contracts import CalendarItem
from core.instance import ruang


def items(session: Session, start: datetime, end: datetime, user: Any = None,
          lab_id: int | None = None) -> list[CalendarItem]:
    """Items of enabled plugins overlapping [start, end), sorted by start."""
    if end <= start:
        raise ValueError("the calendar range must end after it starts")
    found: list[CalendarItem] = ruang().plugins.collect(
        "ruang_calendar_items", session=session, start=start, end=end, user=user
    )
    if lab_id is not None:
        found = [i for i in found if i.lab_id == lab_id]
    return sorted((i for i in found if i.start < end and i.end > start), key=lambda i: i.start)


def to_ical(entries: Sequence[CalendarItem], name: str = "Ruang BPTI") -> bytes:
    """An RFC 5545 calendar (``text/calendar``) of ``entries``."""
    cal = Calendar()
    cal.add("prodid", "-//BPTI//Ruang//ID")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for item in entries:
        ev = Event()
        ev.add("uid", f"{item.uid}@ruang")
        ev.add("summary", item.title)
        ev.add("dtstart", item.start)
        ev.add("dtend", item.end)
        ev.add("categories", [item.source])
        if item.url:
            ev.add("url", item.url)
        cal.add_component(ev)
    return bytes(cal.to_ical())
