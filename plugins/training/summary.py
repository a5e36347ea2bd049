"""A year of trainings at a glance: how many were proposed, approved, held and documented,
who came, how they rated them and how much they learned. It makes the SOP's indicator
"users understand the information systems" measurable, and it is exported as CSV/XLSX.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.training import clock
from plugins.training.evaluation import Results, results
from plugins.training.flow import APPROVED
from plugins.training.models import Training

HELD = ("held", "evaluated", "documented")


@dataclass(frozen=True)
class Row:
    training: Training
    results: Results | None

    @property
    def attended(self) -> int:
        return self.results.attendance.attended if self.results else 0

    @property
    def registered(self) -> int:
        return self.results.attendance.registered if self.results else 0

    @property
    def rating(self) -> float | None:
        return self.results.overall if self.results else None

    @property
    def gain(self) -> float | None:
        g = self.results.gain if self.results else None
        return g.class_gain if g else None


@dataclass
class YearSummary:
    year: int
    rows: list[Row] = field(default_factory=list)
    by_state: Counter[str] = field(default_factory=Counter)
    by_theme: Counter[str] = field(default_factory=Counter)
    by_month: list[int] = field(default_factory=lambda: [0] * 12)

    @property
    def proposed(self) -> int:
        return sum(self.by_state.values())

    @property
    def approved(self) -> int:
        return sum(self.by_state[s] for s in APPROVED)

    @property
    def held(self) -> list[Row]:
        return [r for r in self.rows if r.training.state in HELD]

    @property
    def documented(self) -> int:
        return self.by_state["documented"]

    @property
    def participants(self) -> int:
        return sum(r.attended for r in self.held)

    @property
    def staff(self) -> int:
        return sum(r.results.attendance.attended_staff for r in self.held if r.results)

    @property
    def students(self) -> int:
        return sum(r.results.attendance.attended_students for r in self.held if r.results)

    @property
    def attendance_rate(self) -> float | None:
        registered = sum(r.registered for r in self.held)
        return self.participants / registered if registered else None

    @property
    def rating(self) -> float | None:
        values = [r.rating for r in self.held if r.rating is not None]
        return mean(values) if values else None

    @property
    def gain(self) -> float | None:
        values = [r.gain for r in self.held if r.gain is not None]
        return mean(values) if values else None

    @property
    def budget(self) -> int:
        return sum(r.training.budget for r in self.rows if r.training.state in APPROVED)


def year_summary(session: Session, year: int) -> YearSummary:
    start = datetime(year, 1, 1, tzinfo=clock.tz())
    end = start.replace(year=year + 1)
    out = YearSummary(year)
    for training in session.scalars(select(Training).where(
            Training.starts_at >= start, Training.starts_at < end).order_by(Training.starts_at)):
        out.by_state[training.state] += 1
        res = results(session, training.id) if training.state in HELD else None
        out.rows.append(Row(training, res))
        if training.state in APPROVED:
            out.by_theme[training.theme] += 1
            out.by_month[clock.local(training.starts_at).month - 1] += 1
    return out


def years(session: Session) -> list[int]:
    """The years that have trainings, newest first (this year always included)."""
    found = {clock.local(s).year for s in session.scalars(select(Training.starts_at))}
    found.add(clock.today().year)
    return sorted(found, reverse=True)


COLUMNS = ("code", "title", "theme", "state", "starts", "ends", "registered", "attended",
           "rating", "pre_mean", "post_mean", "gain", "budget", "letter", "report")


def table(summary: YearSummary) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in summary.rows:
        tr = r.training
        g = r.results.gain if r.results else None
        rows.append([
            tr.code, tr.title, tr.theme, tr.state, clock.fmt(tr.starts_at),
            clock.fmt(tr.ends_at), r.registered, r.attended,
            round(r.rating, 2) if r.rating is not None else "",
            round(g.pre_mean, 1) if g and g.pre_mean is not None else "",
            round(g.post_mean, 1) if g and g.post_mean is not None else "",
            round(r.gain, 3) if r.gain is not None else "", tr.budget,
            tr.letter_number or "", tr.report_number or ""])
    return rows


def to_csv(summary: YearSummary) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(table(summary))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(summary: YearSummary) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = f"Diklat {summary.year}"
    sheet.append(list(COLUMNS))
    for row in table(summary):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
