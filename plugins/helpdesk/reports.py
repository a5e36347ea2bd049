"""Reports: volumes, routing, response and resolution times against targets, satisfaction.

They make the SOP's success indicator "complaints reach BPTI and the right division"
measurable: how many complaints were routed to a division, how many reached it on the
first forwarding (not sent on again), and how fast.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.workflow.models import WorkflowStep
from plugins.helpdesk import sla
from plugins.helpdesk.flow import OPEN_STATES, WORKFLOW_NAME
from plugins.helpdesk.models import Category, Ticket


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(0), tz),
                datetime.combine(self.end + timedelta(days=1), time(0), tz))

    @property
    def days(self) -> list[date]:
        n = (self.end - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(max(n, 0))]


@dataclass
class TimeStats:
    count: int = 0
    median_min: float | None = None
    mean_min: float | None = None
    within_target: int = 0
    with_target: int = 0

    @property
    def within_pct(self) -> float | None:
        return round(100 * self.within_target / self.with_target, 1) if self.with_target else None


@dataclass
class Report:
    period: Period
    division: str | None
    total: int = 0
    open_now: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    by_division: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_priority: Counter[str] = field(default_factory=Counter)
    filed_per_day: list[int] = field(default_factory=list)
    resolved_per_day: list[int] = field(default_factory=list)
    routed: int = 0
    routed_first_time: int = 0
    forward_time: TimeStats = field(default_factory=TimeStats)
    response: TimeStats = field(default_factory=TimeStats)
    resolution: TimeStats = field(default_factory=TimeStats)
    breached: int = 0
    ratings: Counter[int] = field(default_factory=Counter)

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        n = self.rating_count
        return round(sum(k * v for k, v in self.ratings.items()) / n, 2) if n else None

    @property
    def routed_pct(self) -> float | None:
        return round(100 * self.routed / self.total, 1) if self.total else None

    @property
    def right_first_time_pct(self) -> float | None:
        return round(100 * self.routed_first_time / self.routed, 1) if self.routed else None


def _times(values: list[float], within: int, with_target: int) -> TimeStats:
    if not values:
        return TimeStats(0, None, None, within, with_target)
    return TimeStats(len(values), round(statistics.median(values), 1),
                     round(statistics.fmean(values), 1), within, with_target)


def _scope(period: Period, tz: ZoneInfo, division: str | None) -> list[ColumnElement[bool]]:
    lo, hi = period.bounds(tz)
    where = [Ticket.created_at >= lo, Ticket.created_at < hi, Ticket.merged_into_id.is_(None)]
    if division:
        where.append(Ticket.division == division)
    return where


def build(session: Session, period: Period, *, division: str | None = None,
          tz: ZoneInfo | None = None) -> Report:
    tz = tz or sla._tz()
    cal = sla.calendar(session)
    where = _scope(period, tz, division)
    report = Report(period, division)
    names = dict(session.execute(select(Category.id, Category.name)).all())
    rows = session.execute(select(
        Ticket.id, Ticket.state, Ticket.division, Ticket.category_id, Ticket.channel,
        Ticket.priority, Ticket.created_at, Ticket.first_responded_at,
        Ticket.first_response_due, Ticket.resolved_at, Ticket.resolution_due,
        Ticket.forwarded_at, Ticket.response_breached, Ticket.resolution_breached,
        Ticket.rating).where(*where)).all()
    index = {d: i for i, d in enumerate(period.days)}
    report.filed_per_day = [0] * len(index)
    report.resolved_per_day = [0] * len(index)
    forwards = Counter(dict(session.execute(
        select(WorkflowStep.object_id, func.count()).where(
            WorkflowStep.workflow == WORKFLOW_NAME, WorkflowStep.action == "forward",
            WorkflowStep.object_id.in_(select(Ticket.id).where(*where)))
        .group_by(WorkflowStep.object_id)).all()))
    resp: list[float] = []
    resol: list[float] = []
    fwd: list[float] = []
    resp_in = resp_with = resol_in = resol_with = 0
    for r in rows:
        report.total += 1
        report.by_state[r.state] += 1
        report.by_division[r.division or "-"] += 1
        report.by_category[names.get(r.category_id, "-") if r.category_id else "-"] += 1
        report.by_channel[r.channel] += 1
        report.by_priority[r.priority] += 1
        if r.state in OPEN_STATES:
            report.open_now += 1
        day = r.created_at.astimezone(tz).date()
        if day in index:
            report.filed_per_day[index[day]] += 1
        if r.resolved_at is not None:
            rday = r.resolved_at.astimezone(tz).date()
            if rday in index:
                report.resolved_per_day[index[rday]] += 1
        if r.division:
            report.routed += 1
            if forwards.get(r.id, 0) <= 1:
                report.routed_first_time += 1
            if r.forwarded_at is not None:
                fwd.append(sla.as_minutes(cal.between(r.created_at, r.forwarded_at)))
        if r.first_responded_at is not None:
            resp.append(sla.as_minutes(cal.between(r.created_at, r.first_responded_at)))
            if r.first_response_due is not None:
                resp_with += 1
                resp_in += int(not r.response_breached)
        if r.resolved_at is not None:
            resol.append(sla.as_minutes(cal.between(r.created_at, r.resolved_at)))
            if r.resolution_due is not None:
                resol_with += 1
                resol_in += int(not r.resolution_breached)
        if r.response_breached or r.resolution_breached:
            report.breached += 1
        if r.rating:
            report.ratings[int(r.rating)] += 1
    report.response = _times(resp, resp_in, resp_with)
    report.resolution = _times(resol, resol_in, resol_with)
    report.forward_time = _times(fwd, 0, 0)
    return report


def chart_data(report: Report, labels: dict[str, str]) -> dict[str, Any]:
    """What the report page's charts draw (JSON for chart.js)."""
    def pairs(counter: Counter[Any], key_labels: dict[str, str] | None = None
              ) -> dict[str, list[Any]]:
        items = counter.most_common()
        return {"labels": [(key_labels or {}).get(str(k), str(k)) for k, _v in items],
                "values": [v for _k, v in items]}

    return {
        "days": [d.isoformat() for d in report.period.days],
        "filed": report.filed_per_day,
        "resolved": report.resolved_per_day,
        "state": pairs(report.by_state, labels),
        "division": pairs(report.by_division),
        "category": pairs(report.by_category),
        "channel": pairs(report.by_channel, labels),
        "ratings": [report.ratings.get(s, 0) for s in range(1, 6)],
    }


# -- XLSX --------------------------------------------------------------------------------------


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def export_xlsx(session: Session, tickets: Iterable[Ticket], *, report: Report | None = None,
                labels: dict[str, str] | None = None, tz: ZoneInfo | None = None) -> bytes:
    """A workbook: the summary (when ``report`` is given) and one row per ticket."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    tz = tz or sla._tz()
    labels = labels or {}
    names = dict(session.execute(select(Category.id, Category.name)).all())
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if report is not None:
        ws.title = labels.get("Summary", "Summary")[:31]
        bold = Font(bold=True)
        lines: list[tuple[str, Any]] = [
            (labels.get("Period", "Period"),
             f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"),
            (labels.get("Division", "Division"), report.division or "-"),
            (labels.get("Complaints", "Complaints"), report.total),
            (labels.get("Still open", "Still open"), report.open_now),
            (labels.get("Routed to a division (%)", "Routed to a division (%)"),
             report.routed_pct),
            (labels.get("Right division first time (%)", "Right division first time (%)"),
             report.right_first_time_pct),
            (labels.get("First response, median (business minutes)",
                        "First response, median (business minutes)"),
             report.response.median_min),
            (labels.get("First response within target (%)",
                        "First response within target (%)"), report.response.within_pct),
            (labels.get("Resolution, median (business minutes)",
                        "Resolution, median (business minutes)"), report.resolution.median_min),
            (labels.get("Resolution within target (%)", "Resolution within target (%)"),
             report.resolution.within_pct),
            (labels.get("Satisfaction (1-5)", "Satisfaction (1-5)"), report.rating_mean),
            (labels.get("Ratings", "Ratings"), report.rating_count),
        ]
        for key, value in lines:
            ws.append([key, value])
            ws.cell(row=ws.max_row, column=1).font = bold
        for title, counter in ((labels.get("Status", "Status"), report.by_state),
                               (labels.get("Division", "Division"), report.by_division),
                               (labels.get("Category", "Category"), report.by_category),
                               (labels.get("Channel", "Channel"), report.by_channel)):
            ws.append([])
            ws.append([title])
            ws.cell(row=ws.max_row, column=1).font = bold
            for key, value in counter.most_common():
                ws.append([labels.get(str(key), str(key)), value])
        ws.column_dimensions["A"].width = 48
        ws = wb.create_sheet(labels.get("Tickets", "Tickets")[:31])
    else:
        ws.title = labels.get("Tickets", "Tickets")[:31]
    headers = ["Number", "Filed", "Subject", "Requester", "E-mail", "Phone", "Channel",
               "Category", "Division", "Priority", "Status", "First response",
               "Resolved", "Response breached", "Resolution breached", "Rating"]
    ws.append([labels.get(h, h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for t in tickets:
        ws.append([
            t.number, _local(t.created_at, tz), t.subject, t.requester_name,
            t.requester_email, t.requester_phone, labels.get(t.channel, t.channel),
            names.get(t.category_id, "") if t.category_id else "", t.division or "",
            labels.get(t.priority, t.priority), labels.get(t.state, t.state),
            _local(t.first_responded_at, tz), _local(t.resolved_at, tz),
            bool(t.response_breached), bool(t.resolution_breached), t.rating,
        ])
    for col, width in zip("ABCDEFGHIJKLMNOP", (18, 18, 48, 28, 28, 16, 12, 24, 10, 10, 16,
                                               18, 18, 10, 10, 8), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
