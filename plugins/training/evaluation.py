"""The participants' evaluation (ratings from 1 to 5 and comments) and the results of a
training: attendance, ratings, and learning gain, as the page, the charts and the PDF
report show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.training.errors import N_, TrainingError
from plugins.training.forms import RATINGS, FeedbackForm, parse
from plugins.training.models import (
    Feedback,
    Participant,
    ParticipantKind,
    ParticipantStatus,
    Training,
)
from plugins.training.quiz import Gain, gain


def feedback_of(session: Session, participant_id: int) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.participant_id == participant_id))


def why_not(session: Session, training: Training, person: Participant) -> str | None:
    if training.state != "held":
        return N_("The evaluation form is open while the training is held.")
    if person.checked_in_at is None:
        return N_("The evaluation is for participants who attended.")
    if feedback_of(session, person.id) is not None:
        return N_("You have already sent your evaluation. Thank you!")
    return None


def submit(session: Session, training: Training, person: Participant,
           data: Mapping[str, Any]) -> Feedback:
    reason = why_not(session, training, person)
    if reason:
        raise TrainingError(reason, kind="closed", http=409)
    form = parse(FeedbackForm, data)
    row = Feedback(participant_id=person.id, submitted_at=utcnow(), **form.model_dump())
    session.add(row)
    session.flush()
    audit(session, "training.feedback", actor=f"peserta:{person.email}",
          object_type="training", object_id=training.id,
          details={"participant": person.id, "overall": form.overall})
    return row


@dataclass(frozen=True)
class Aspect:
    name: str
    label: str
    average: float | None
    counts: list[int]  # how many gave 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Attendance:
    invited: int
    registered: int
    waitlisted: int
    cancelled: int
    attended: int
    attended_staff: int
    attended_students: int
    by_qr: int
    by_staff: int

    @property
    def rate(self) -> float | None:
        return self.attended / self.registered if self.registered else None


@dataclass(frozen=True)
class Results:
    training_id: int
    attendance: Attendance
    responses: int
    aspects: list[Aspect]
    overall: float | None  # the mean of every rating
    liked: list[str] = field(default_factory=list)
    improve: list[str] = field(default_factory=list)
    gain: Gain | None = None

    @property
    def response_rate(self) -> float | None:
        a = self.attendance.attended
        return self.responses / a if a else None

    def chart_data(self) -> dict[str, Any]:
        """What the page's charts draw (labels are filled in by the template)."""
        g = self.gain
        return {
            "aspects": [{"name": a.name, "average": a.average, "counts": a.counts}
                        for a in self.aspects],
            "scores": [{"pre": pre, "post": post} for _p, pre, post, _g in
                       (g.rows if g else [])],
            "means": {"pre": g.pre_mean if g else None, "post": g.post_mean if g else None},
            "bands": g.bands if g else {},
        }


def attendance(session: Session, training_id: int) -> Attendance:
    people = list(session.scalars(select(Participant).where(
        Participant.training_id == training_id)))

    def n(status: str) -> int:
        return sum(1 for p in people if p.status == status)

    came = [p for p in people if p.checked_in_at is not None]
    return Attendance(
        invited=n(ParticipantStatus.INVITED.value),
        registered=n(ParticipantStatus.REGISTERED.value),
        waitlisted=n(ParticipantStatus.WAITLISTED.value),
        cancelled=n(ParticipantStatus.CANCELLED.value),
        attended=len(came),
        attended_staff=sum(1 for p in came if p.kind == ParticipantKind.STAFF.value),
        attended_students=sum(1 for p in came if p.kind == ParticipantKind.STUDENT.value),
        by_qr=sum(1 for p in came if p.checkin_method == "qr"),
        by_staff=sum(1 for p in came if p.checkin_method != "qr"))


def results(session: Session, training_id: int) -> Results:
    rows = list(session.scalars(select(Feedback).join(
        Participant, Participant.id == Feedback.participant_id)
        .where(Participant.training_id == training_id).order_by(Feedback.submitted_at)))
    aspects = []
    everything: list[int] = []
    for name, label in RATINGS:
        values = [int(getattr(r, name)) for r in rows]
        everything += values
        aspects.append(Aspect(name, label, mean(values) if values else None,
                              [values.count(v) for v in range(1, 6)]))
    return Results(
        training_id=training_id, attendance=attendance(session, training_id),
        responses=len(rows), aspects=aspects,
        overall=mean(everything) if everything else None,
        liked=[r.liked for r in rows if r.liked.strip()],
        improve=[r.improve for r in rows if r.improve.strip()],
        gain=gain(session, training_id))
