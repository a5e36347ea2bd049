"""Time on the instance's wall clock: forms take local times, the database keeps UTC."""

from __future__ import annotations

from datetime import date, datetime, time
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


def local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(tz()) if moment is not None else None


def fmt(moment: datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
    """A stored UTC time as people read it here; empty for ``None``."""
    if moment is None:
        return ""
    return moment.astimezone(tz()).strftime(pattern)


def at_local(day: date, clock: time) -> datetime:
    """``day`` at ``clock`` on the wall clock, as an aware datetime."""
    return datetime.combine(day, clock, tzinfo=tz())


def aware(moment: datetime) -> datetime:
    """A naive time from a form (``datetime-local``) read on the wall clock."""
    return moment.replace(tzinfo=tz()) if moment.tzinfo is None else moment


def today() -> date:
    return utcnow().astimezone(tz()).date()
