"""Changing the helpdesk's set-up: categories, service levels, hours, holidays, canned replies.

Each change is validated first and audited in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.helpdesk.forms import CannedForm, CategoryForm, FormError, PolicyForm, parse
from plugins.helpdesk.models import CannedReply, Category, Holiday, SlaPolicy


class AdminError(ValueError):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def overview(session: Session) -> dict[str, Any]:
    cats = list(session.scalars(select(Category).order_by(Category.position, Category.name)))
    policies = list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.category_key,
                                                               SlaPolicy.priority)))
    holidays = list(session.scalars(select(Holiday).order_by(Holiday.day)))
    canned = list(session.scalars(select(CannedReply).order_by(CannedReply.title)))
    return {"categories": cats, "policies": policies, "holidays": holidays, "canned": canned,
            "category_names": {c.id: c.name for c in cats}}


def save_category(session: Session, data: dict[str, Any], actor: Any) -> Category:
    form = parse(CategoryForm, data)
    raw_id = str(data.get("id") or "")
    cat = session.get(Category, int(raw_id)) if raw_id.isdigit() else None
    clash = session.scalar(select(Category).where(Category.code == form.code))
    if clash is not None and clash is not cat:
        raise FormError.one("code", "the code %(code)s is taken", code=form.code)
    if form.auto_forward and not form.division:
        raise FormError.one("division", "choose the division it goes to, or switch off "
                                        "forwarding")
    if cat is None:
        cat = Category(code=form.code, name=form.name)
        session.add(cat)
    cat.code, cat.name, cat.description = form.code, form.name, form.description
    cat.division = form.division or None
    cat.auto_forward, cat.default_priority = form.auto_forward, form.default_priority.value
    cat.active, cat.position = form.active, form.position
    session.flush()
    audit(session, "helpdesk.category", actor=actor, object_type="helpdesk_category",
          object_id=cat.id, details=form.model_dump(mode="json"))
    return cat


def save_policy(session: Session, data: dict[str, Any], actor: Any) -> SlaPolicy:
    form = parse(PolicyForm, data)
    if form.category_id is not None and session.get(Category, form.category_id) is None:
        raise FormError.one("category_id", "no such category")
    key = form.category_id or 0
    row = session.scalar(select(SlaPolicy).where(SlaPolicy.category_key == key,
                                                 SlaPolicy.priority == form.priority.value))
    if row is None:
        row = SlaPolicy(category_id=form.category_id, category_key=key,
                        priority=form.priority.value, first_response_min=0, resolution_min=0)
        session.add(row)
    row.first_response_min, row.resolution_min = form.first_response_min, form.resolution_min
    session.flush()
    audit(session, "helpdesk.sla_policy", actor=actor, object_type="helpdesk_sla",
          object_id=row.id, details=form.model_dump(mode="json"))
    return row


def delete_policy(session: Session, policy_id: int, actor: Any) -> None:
    row = session.get(SlaPolicy, policy_id)
    if row is None:
        raise AdminError("No such service level.")
    session.delete(row)
    audit(session, "helpdesk.sla_policy_delete", actor=actor, object_type="helpdesk_sla",
          object_id=policy_id, details={"priority": row.priority,
                                        "category_id": row.category_id})


def save_hours(session: Session, hours: dict[str, str], actor: Any) -> None:
    from core import settings_store
    from core.instance import ruang

    try:
        settings_store.set_value(session, ruang().plugins, "helpdesk.business_hours", hours,
                                 actor=actor)
    except settings_store.SettingError as exc:
        raise AdminError("The business hours were not saved: %(reason)s",
                         reason=str(exc).split(": ", 1)[-1]) from None


def add_holiday(session: Session, day: str, name: str, actor: Any) -> Holiday:
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise FormError.one("day", "is not a date like 2026-08-17") from None
    name = name.strip()[:200]
    if session.scalar(select(Holiday.id).where(Holiday.day == when)) is not None:
        raise FormError.one("day", "%(day)s is a holiday already", day=when.isoformat())
    row = Holiday(day=when, name=name)
    session.add(row)
    session.flush()
    audit(session, "helpdesk.holiday", actor=actor, object_type="helpdesk_holiday",
          object_id=row.id, details={"day": when.isoformat(), "name": name})
    return row


def import_holidays(session: Session, data: bytes, actor: Any) -> int:
    """Add the all-day events of an iCalendar file (a national holiday calendar) as holidays;
    days already listed are skipped. Returns how many were added."""
    from datetime import datetime, timedelta

    from icalendar import Calendar

    if not data:
        raise FormError.one("file", "choose an .ics file")
    try:
        cal = Calendar.from_ical(data)
    except Exception as exc:
        raise FormError.one("file", "not an iCalendar file: %(reason)s",
                            reason=str(exc)[:200]) from None
    have = set(session.scalars(select(Holiday.day)))
    added = 0
    for event in cal.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None:
            continue
        first = start.dt
        if isinstance(first, datetime):
            continue  # holidays are whole days
        end = event.get("DTEND")
        last = end.dt if end is not None and not isinstance(end.dt, datetime) else (
            first + timedelta(days=1))
        name = str(event.get("SUMMARY", ""))[:200]
        day = first
        while day < last and (day - first).days < 31:
            if day not in have:
                session.add(Holiday(day=day, name=name))
                have.add(day)
                added += 1
            day += timedelta(days=1)
    session.flush()
    audit(session, "helpdesk.holiday_import", actor=actor, object_type="helpdesk_holiday",
          object_id="", details={"added": added})
    return added


def delete_holiday(session: Session, holiday_id: int, actor: Any) -> None:
    row = session.get(Holiday, holiday_id)
    if row is None:
        raise AdminError("No such holiday.")
    session.delete(row)
    audit(session, "helpdesk.holiday_delete", actor=actor, object_type="helpdesk_holiday",
          object_id=holiday_id, details={"day": row.day.isoformat()})


def save_canned(session: Session, data: dict[str, Any], actor: Any) -> CannedReply:
    form = parse(CannedForm, data)
    raw_id = str(data.get("id") or "")
    row = session.get(CannedReply, int(raw_id)) if raw_id.isdigit() else None
    if row is None:
        row = CannedReply(title=form.title, body=form.body, created_by=getattr(actor, "id", None))
        session.add(row)
    row.title, row.body, row.division = form.title, form.body, form.division or None
    row.active, row.updated_at = form.active, utcnow()
    session.flush()
    audit(session, "helpdesk.canned", actor=actor, object_type="helpdesk_canned",
          object_id=row.id, details={"title": form.title})
    return row


def delete_canned(session: Session, canned_id: int, actor: Any) -> None:
    row = session.get(CannedReply, canned_id)
    if row is None:
        raise AdminError("No such canned reply.")
    session.delete(row)
    audit(session, "helpdesk.canned_delete", actor=actor, object_type="helpdesk_canned",
          object_id=canned_id, details={"title": row.title})
