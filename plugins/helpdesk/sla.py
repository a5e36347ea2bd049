"""Service levels: targets per category and priority, counted in business hours.

Targets are business minutes; the clock runs only inside the business hours of the
``helpdesk.business_hours`` setting and never on a holiday. While a ticket waits on its
user the clock stops, and its due times move on by the business time it waited. A
background job warns the assignee when a target comes near and escalates a breached
ticket to the Kabag. of its division (Kabag. YANSI while it is not routed yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.helpdesk import options
from plugins.helpdesk.models import Holiday, SlaPolicy, Ticket

MAX_DAYS = 3 * 366  # a calendar with no business hours at all would loop for ever


def _tz() -> ZoneInfo:
    from flask import has_app_context

    if has_app_context():
        from core.instance import ruang

        return ZoneInfo(ruang().settings.timezone)
    return ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening windows per weekday (Monday = 0), in minutes of the day, and holidays."""

    windows: dict[int, list[tuple[int, int]]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))

    @classmethod
    def from_hours(cls, hours: dict[str, str], holidays: Iterable[date] = (),
                   tz: ZoneInfo | None = None) -> BusinessCalendar:
        windows = {i: options.parse_windows(hours.get(day, "") or "")
                   for i, day in enumerate(options.WEEKDAYS)}
        return cls(windows, frozenset(holidays), tz or _tz())

    @property
    def empty(self) -> bool:
        return not any(self.windows.values())

    def _day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        out = []
        for start, end in self.windows.get(day.weekday(), []):
            base = datetime.combine(day, time(0), self.tz)
            out.append((base + timedelta(minutes=start), base + timedelta(minutes=end)))
        return out

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` business minutes after ``start`` (UTC)."""
        if minutes <= 0 or self.empty:
            return (start + timedelta(minutes=max(minutes, 0))).astimezone(UTC)
        remaining = timedelta(minutes=minutes)
        moment = start.astimezone(self.tz)
        day = moment.date()
        for _ in range(MAX_DAYS):
            for ws, we in self._day_windows(day):
                if we <= moment:
                    continue
                begin = max(moment, ws)
                available = we - begin
                if available >= remaining:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), self.tz)
        return (start + timedelta(minutes=minutes)).astimezone(UTC)

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        if b <= a:
            return timedelta(0)
        if self.empty:
            return b - a
        a_local, b_local = a.astimezone(self.tz), b.astimezone(self.tz)
        total = timedelta(0)
        day = a_local.date()
        while day <= b_local.date():
            for ws, we in self._day_windows(day):
                lo, hi = max(ws, a_local), min(we, b_local)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


def calendar(session: Session) -> BusinessCalendar:
    hours = options.get(session, "helpdesk.business_hours") or options.DEFAULT_HOURS
    today = utcnow().date()
    days = session.scalars(select(Holiday.day).where(
        Holiday.day >= today - timedelta(days=400), Holiday.day <= today + timedelta(days=800)))
    return BusinessCalendar.from_hours(hours, days, _tz())


# -- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    first_response_min: int
    resolution_min: int


def target_for(session: Session, category_id: int | None, priority: str) -> Target | None:
    """The policy of the ticket's category and priority, else the default for the priority."""
    keys = [category_id or 0, 0] if category_id else [0]
    rows = {row.category_key: row for row in session.scalars(
        select(SlaPolicy).where(SlaPolicy.priority == priority,
                                SlaPolicy.category_key.in_(keys)))}
    for key in keys:
        row = rows.get(key)
        if row is not None:
            return Target(row.first_response_min, row.resolution_min)
    return None


def set_targets(session: Session, ticket: Ticket, *, cal: BusinessCalendar | None = None,
                since: datetime | None = None) -> None:
    """(Re)compute the due times from ``since`` (default: when the ticket was filed)."""
    target = target_for(session, ticket.category_id, ticket.priority)
    if target is None:
        ticket.first_response_due = ticket.resolution_due = None
        return
    cal = cal or calendar(session)
    start = since or ticket.created_at
    if ticket.first_responded_at is None:
        ticket.first_response_due = cal.add(start, target.first_response_min)
    ticket.resolution_due = cal.add(start, target.resolution_min)
    ticket.warned_at = None


def pause(ticket: Ticket, now: datetime | None = None) -> None:
    if ticket.paused_at is None:
        ticket.paused_at = now or utcnow()


def resume(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    """Stop the pause: move the resolution due time on by the business time waited."""
    if ticket.paused_at is None:
        return
    now = now or utcnow()
    cal = calendar(session)
    waited = cal.between(ticket.paused_at, now)
    if ticket.resolution_due is not None and waited:
        ticket.resolution_due = cal.add(ticket.resolution_due, waited.total_seconds() / 60)
    ticket.paused_at = None


def mark_first_response(ticket: Ticket, now: datetime | None = None) -> None:
    if ticket.first_responded_at is not None:
        return
    now = now or utcnow()
    ticket.first_responded_at = now
    if ticket.first_response_due is not None and now > ticket.first_response_due:
        ticket.response_breached = True


def mark_resolved(ticket: Ticket, now: datetime | None = None) -> None:
    now = now or utcnow()
    ticket.resolved_at = now
    ticket.paused_at = None
    if ticket.resolution_due is not None and now > ticket.resolution_due:
        ticket.resolution_breached = True


# -- the background check -----------------------------------------------------------------


@dataclass
class CheckResult:
    warned: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.warned or self.escalated)


def _warn_moment(created: datetime, due: datetime, percent: int) -> datetime:
    return created + (due - created) * (percent / 100)


def check(session: Session, now: datetime | None = None) -> CheckResult:
    """Warn about targets coming near and escalate breached tickets, once each.

    Runs in ``session``'s write transaction (the ``helpdesk.sla`` job every minute).
    """
    from plugins.helpdesk import notices
    from plugins.helpdesk.flow import OPEN_STATES

    now = now or utcnow()
    percent = int(options.get(session, "helpdesk.warn_percent"))
    result = CheckResult()
    running = and_(Ticket.state.in_(OPEN_STATES), Ticket.state != "waiting",
                   Ticket.merged_into_id.is_(None))
    response_open = and_(Ticket.first_responded_at.is_(None),
                         Ticket.first_response_due.is_not(None))
    candidates = session.scalars(
        select(Ticket).where(running, Ticket.escalated_at.is_(None), or_(
            response_open, Ticket.resolution_due.is_not(None)))
        .order_by(Ticket.id).limit(2000)
    ).all()
    for ticket in candidates:
        dues: list[tuple[str, datetime]] = []
        if ticket.first_responded_at is None and ticket.first_response_due is not None:
            dues.append(("response", ticket.first_response_due))
        if ticket.resolution_due is not None:
            dues.append(("resolution", ticket.resolution_due))
        breached = [kind for kind, due in dues if now > due]
        if breached:
            if "response" in breached:
                ticket.response_breached = True
            if "resolution" in breached:
                ticket.resolution_breached = True
            ticket.escalated_at = now
            ticket.warned_at = ticket.warned_at or now
            _system_note(session, ticket, "escalated", breached, now)
            audit(session, "helpdesk.escalate", actor="system", object_type="helpdesk_ticket",
                  object_id=ticket.id, details={"number": ticket.number, "breached": breached,
                                                "division": ticket.division})
            notices.escalation(session, ticket, breached)
            result.escalated.append(ticket.number)
            continue
        if ticket.warned_at is not None:
            continue
        near = [kind for kind, due in dues
                if now >= _warn_moment(ticket.created_at, due, percent)]
        if near:
            ticket.warned_at = now
            _system_note(session, ticket, "warned", near, now)
            audit(session, "helpdesk.sla_warning", actor="system",
                  object_type="helpdesk_ticket", object_id=ticket.id,
                  details={"number": ticket.number, "targets": near})
            notices.sla_warning(session, ticket, near)
            result.warned.append(ticket.number)
    return result


def _system_note(session: Session, ticket: Ticket, what: str, kinds: list[str],
                 now: datetime) -> None:
    from plugins.helpdesk.timeline import system_note

    system_note(session, ticket, "sla_escalated" if what == "escalated" else "sla_warned",
                targets=kinds, at=now)


def due_state(ticket: Ticket, now: datetime | None = None) -> str:
    """``breached``, ``warned``, ``ok`` or ``none``: the badge a queue shows."""
    now = now or utcnow()
    if ticket.response_breached or ticket.resolution_breached:
        return "breached"
    if ticket.state in ("resolved", "closed"):
        return "none"
    dues = [d for d in (ticket.first_response_due if ticket.first_responded_at is None
                        else None, ticket.resolution_due) if d is not None]
    if not dues:
        return "none"
    if any(now > d for d in dues):
        return "breached"
    return "warned" if ticket.warned_at is not None else "ok"


def as_minutes(delta: Any) -> float:
    return float(delta.total_seconds()) / 60.0
