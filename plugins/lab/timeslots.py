"""Wall-clock times of the campus and the weekly series a booking request expands into.

People book in local time (``Asia/Jakarta`` by default) and the database stores UTC, so every
conversion goes through here. A weekly series is expanded into one occurrence per week; a
week on a date the requester excludes (a holiday, the mid-term week) is left out, not moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from plugins.lab.errors import N_, LabError

MAX_WEEKS = 26  # one semester, with room for the exam weeks
DEFAULT_TZ = "Asia/Jakarta"


def timezone() -> ZoneInfo:
    """The instance's time zone (``RUANG_TIMEZONE``), or Jakarta outside an app."""
    from flask import has_app_context

    name = DEFAULT_TZ
    if has_app_context():
        from core.instance import ruang

        name = ruang().settings.timezone
    return ZoneInfo(name)


def local(moment: datetime, tz: ZoneInfo | None = None) -> datetime:
    """A stored (UTC) time on the campus clock."""
    return moment.astimezone(tz or timezone())


def at_local(day: date, clock: time, tz: ZoneInfo | None = None) -> datetime:
    """The UTC instant of ``clock`` on ``day`` on the campus clock."""
    return datetime.combine(day, clock, tzinfo=tz or timezone()).astimezone(UTC)


def today(tz: ZoneInfo | None = None) -> date:
    return datetime.now(tz or timezone()).date()


@dataclass(frozen=True)
class Slot:
    """One occurrence: a UTC span, and the local date it was asked for."""

    day: date
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def weekly(first: date, start: time, end: time, until: date | None = None,
           skip: frozenset[date] = frozenset(), tz: ZoneInfo | None = None) -> list[Slot]:
    """The occurrences of a booking: ``first`` alone, or every week up to ``until``.

    Raises :class:`LabError` with a sentence a requester understands when the series is empty,
    too long or backwards.
    """
    if end <= start:
        raise LabError(N_("The end time must be after the start time."))
    last = until or first
    if last < first:
        raise LabError(N_("The last week must not be before the first date."))
    weeks = (last - first).days // 7 + 1
    if weeks > MAX_WEEKS:
        raise LabError(N_("A weekly booking covers at most %(weeks)d weeks (one semester)."),
                       weeks=MAX_WEEKS)
    zone = tz or timezone()
    slots = []
    for n in range(weeks):
        day = first + timedelta(weeks=n)
        if day in skip:
            continue
        slots.append(Slot(day, at_local(day, start, zone), at_local(day, end, zone)))
    if not slots:
        raise LabError(N_("Every week of the series is excluded; nothing would be booked."))
    return slots


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open spans: a booking ending at 10:00 and one starting at 10:00 do not clash."""
    return a_start < b_end and b_start < a_end


def month_bounds(year: int, month: int, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on the first of the month and of the next month."""
    zone = tz or timezone()
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return at_local(first, time(0), zone), at_local(nxt, time(0), zone)


def day_bounds(day: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    zone = tz or timezone()
    return at_local(day, time(0), zone), at_local(day + timedelta(days=1), time(0), zone)


def day_format(moment: date | datetime, fmt: str) -> str:
    """``strftime`` with the day's name in the reader's language (``%a``, ``%A``): Python's
    own names follow the C locale, which would put English days on Indonesian pages."""
    if "%a" in fmt or "%A" in fmt:
        from flask import has_request_context

        locale = "id"
        if has_request_context():
            from flask_babel import get_locale

            locale = str(get_locale() or "id")
        from babel.dates import get_day_names

        weekday = moment.weekday()
        fmt = fmt.replace("%A", get_day_names("wide", locale=locale)[weekday])
        fmt = fmt.replace("%a", get_day_names("abbreviated", locale=locale)[weekday])
    return moment.strftime(fmt)
