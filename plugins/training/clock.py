"""Time on the instance's wall clock: forms take local times, the database keeps UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.db import utcnow


def tz() -> ZoneInfo:
    from flask import has_app_context

    if has_app_context():
        from core.instance import ruang

        return ZoneInfo(ruang().settings.timezone)
    return ZoneInfo("Asia/Jakarta")


def now() -> datetime:
    return utcnow()


def local(moment: datetime) -> datetime:
    return moment.astimezone(tz())


def fmt(moment: datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
    """A stored UTC time as people read it here; empty for ``None``."""
    if moment is None:
        return ""
    return moment.astimezone(tz()).strftime(pattern)


def aware(moment: datetime) -> datetime:
    """A naive time from a form (``datetime-local``) read on the wall clock."""
    return moment.replace(tzinfo=tz()) if moment.tzinfo is None else moment


def today() -> date:
    return utcnow().astimezone(tz()).date()


def span(start: datetime, end: datetime) -> str:
    """``12-03-2026 08:00–16:00`` or, across days, ``12-03-2026 08:00 – 13-03-2026 16:00``."""
    a, b = local(start), local(end)
    if a.date() == b.date():
        return f"{a:%d-%m-%Y %H:%M}–{b:%H:%M}"
    return f"{a:%d-%m-%Y %H:%M} – {b:%d-%m-%Y %H:%M}"


def input_value(moment: datetime | None) -> str:
    """The value of a ``datetime-local`` input for a stored time."""
    return fmt(moment, "%Y-%m-%dT%H:%M") if moment is not None else ""
