"""CBT exams as knowledge checks for other plugins (a training's pre- and post-test).

Answers ``ruang_assessments`` with published exams and ``ruang_assessment_scores`` with
each finished candidate's percentage, scored from the answer log like the results page.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import Assessment, AssessmentScore
from plugins.cbt.models import Exam

PREFIX = "cbt:exam:"


def offered(session: Session, query: str) -> list[Assessment]:
    stmt = select(Exam).where(Exam.status == "published").order_by(Exam.title)
    text = query.strip().lower()
    return [
        Assessment(ref=f"{PREFIX}{exam.id}", title=f"{exam.title} ({exam.code})", source="cbt",
                   opens_at=exam.opens_at, closes_at=exam.closes_at)
        for exam in session.scalars(stmt)
        if not text or text in exam.title.lower() or text in exam.code.lower()
    ]


def scores(session: Session, ref: str) -> list[AssessmentScore] | None:
    """Finished results of ``ref``; ``None`` when ``ref`` is not a CBT exam of this instance."""
    if not ref.startswith(PREFIX) or not ref[len(PREFIX):].isdigit():
        return None
    exam = session.get(Exam, int(ref[len(PREFIX):]))
    if exam is None:
        return None
    from plugins.cbt.reports.source import result_rows

    rows, _sections = result_rows(session, exam)
    return [
        AssessmentScore(ref=ref, score=round(row.percent, 2), identifier=row.student_number,
                        name=row.name, finished_at=row.submitted_at)
        for row in rows if row.percent is not None and not row.absent
    ]
