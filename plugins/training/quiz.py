"""The built-in knowledge check: the same short multiple-choice quiz before (pre-test) and
after (post-test) the training, scored as a percentage of correct answers.

Questions are fixed once the first participant has answered, so the two scores measure
the same thing. Learning gain is Hake's normalised gain, ``(post - pre) / (100 - pre)``:
the share of what a person did not know before that they learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import mean
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.training.errors import N_, TrainingError
from plugins.training.forms import QuestionForm, parse
from plugins.training.models import (
    CheckMode,
    Participant,
    ParticipantStatus,
    Question,
    QuizAttempt,
    Training,
)

MAX_QUESTIONS = 50
PHASES = ("pre", "post")


def questions(session: Session, training_id: int) -> list[Question]:
    return list(session.scalars(select(Question).where(Question.training_id == training_id)
                                .order_by(Question.position, Question.id)))


def answered(session: Session, training_id: int) -> int:
    return int(session.scalar(
        select(func.count()).select_from(QuizAttempt).join(
            Participant, Participant.id == QuizAttempt.participant_id)
        .where(Participant.training_id == training_id)) or 0)


def _editable(session: Session, training: Training) -> None:
    if training.check_mode != CheckMode.QUIZ.value:
        raise TrainingError(N_("This training does not use the built-in quiz."), kind="state",
                            http=409)
    if training.state in ("evaluated", "documented", "rejected", "cancelled"):
        raise TrainingError(N_("The questions of a finished training stay as they were."),
                            kind="state", http=409)
    if answered(session, training.id):
        raise TrainingError(N_("Participants have already answered; the questions are fixed so "
                            "that the pre-test and the post-test compare."), kind="locked",
                            http=409)


def add_question(session: Session, training: Training, data: Mapping[str, Any], actor: Any
                 ) -> Question:
    _editable(session, training)
    form = parse(QuestionForm, data)
    existing = questions(session, training.id)
    if len(existing) >= MAX_QUESTIONS:
        raise TrainingError(N_("A knowledge check has at most %(n)s questions."), n=MAX_QUESTIONS)
    q = Question(training_id=training.id, position=len(existing), text=form.text,
                 options=form.options, correct=form.correct - 1)
    session.add(q)
    session.flush()
    audit(session, "training.question.add", actor=actor, object_type="training",
          object_id=training.id, details={"question": q.id})
    return q


def delete_question(session: Session, training: Training, question_id: int, actor: Any
                    ) -> None:
    _editable(session, training)
    q = session.get(Question, question_id)
    if q is None or q.training_id != training.id:
        raise TrainingError(N_("That question is not part of this training."), kind="not_found",
                            http=404)
    session.delete(q)
    session.flush()
    for position, other in enumerate(questions(session, training.id)):
        other.position = position
    audit(session, "training.question.delete", actor=actor, object_type="training",
          object_id=training.id, details={"question": question_id})


def attempt_of(session: Session, participant_id: int, phase: str) -> QuizAttempt | None:
    return session.scalar(select(QuizAttempt).where(QuizAttempt.participant_id == participant_id,
                                                    QuizAttempt.phase == phase))


def why_not(session: Session, training: Training, person: Participant, phase: str
            ) -> str | None:
    """Why ``person`` may not take the ``phase`` test now (a msgid), or ``None``."""
    if training.check_mode != CheckMode.QUIZ.value:
        return N_("This training has no built-in quiz.")
    if phase not in PHASES:
        return N_("Unknown test.")
    if person.status != ParticipantStatus.REGISTERED.value:
        return N_("Only registered participants take the tests.")
    if not questions(session, training.id):
        return N_("The questions are not ready yet.")
    if attempt_of(session, person.id, phase) is not None:
        return N_("You have already taken this test.")
    if phase == "pre":
        if training.state not in ("preparation", "held"):
            return N_("The pre-test is closed.")
        if attempt_of(session, person.id, "post") is not None:
            return N_("The pre-test is closed.")
    else:
        if training.state != "held":
            return N_("The post-test opens during the training.")
        if person.checked_in_at is None:
            return N_("The post-test is for participants who attended.")
    return None


def submit(session: Session, training: Training, person: Participant, phase: str,
           answers: Mapping[str, Any]) -> QuizAttempt:
    """Score and store one test. Every question must be answered with one of its options."""
    reason = why_not(session, training, person, phase)
    if reason:
        raise TrainingError(reason, kind="closed", http=409)
    qs = questions(session, training.id)
    chosen: dict[str, int] = {}
    missing: list[int] = []
    for n, q in enumerate(qs, start=1):
        raw = answers.get(f"q{q.id}")
        try:
            value = int(str(raw))
        except (TypeError, ValueError):
            missing.append(n)
            continue
        if not 0 <= value < len(q.options):
            missing.append(n)
            continue
        chosen[str(q.id)] = value
    if missing:
        raise TrainingError(N_("Answer every question; missing or invalid: %(list)s."),
                            fields={"answers": "missing"},
                            list=", ".join(str(n) for n in missing))
    correct = sum(1 for q in qs if chosen[str(q.id)] == q.correct)
    score = round(100.0 * correct / len(qs), 2)
    attempt = QuizAttempt(participant_id=person.id, phase=phase, answers=chosen,
                          correct=correct, total=len(qs), score=score, submitted_at=utcnow())
    session.add(attempt)
    setattr(person, f"{phase}_score", score)
    session.flush()
    audit(session, f"training.quiz.{phase}", actor=f"peserta:{person.email}",
          object_type="training", object_id=training.id,
          details={"participant": person.id, "score": score})
    return attempt


# -- learning gain ---------------------------------------------------------------------------


def normalised_gain(pre: float, post: float) -> float | None:
    """Hake's gain of one person; ``None`` when they knew everything already."""
    if pre >= 100.0:
        return None
    return (post - pre) / (100.0 - pre)


def gain_band(g: float | None) -> str:
    if g is None:
        return ""
    if g >= 0.7:
        return "high"
    if g >= 0.3:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Gain:
    """Pre/post results of the people who took both tests."""

    pairs: int
    pre_takers: int
    post_takers: int
    pre_mean: float | None
    post_mean: float | None
    class_gain: float | None  # gain of the class averages (Hake's <g>)
    mean_gain: float | None  # average of the individual gains
    bands: dict[str, int]
    rows: list[tuple[Participant, float | None, float | None, float | None]]

    @property
    def band(self) -> str:
        return gain_band(self.class_gain)


def gain(session: Session, training_id: int) -> Gain:
    people = list(session.scalars(select(Participant).where(
        Participant.training_id == training_id,
        Participant.status == ParticipantStatus.REGISTERED.value)
        .order_by(Participant.name)))
    rows = []
    pairs = []
    bands = {"high": 0, "medium": 0, "low": 0}
    for p in people:
        g = None
        if p.pre_score is not None and p.post_score is not None:
            g = normalised_gain(p.pre_score, p.post_score)
            pairs.append((p.pre_score, p.post_score, g))
            if g is not None:
                bands[gain_band(g)] += 1
        if p.pre_score is not None or p.post_score is not None:
            rows.append((p, p.pre_score, p.post_score, g))
    pre_mean = mean(a for a, _b, _g in pairs) if pairs else None
    post_mean = mean(b for _a, b, _g in pairs) if pairs else None
    class_gain = (normalised_gain(pre_mean, post_mean)
                  if pre_mean is not None and post_mean is not None else None)
    individual = [g for _a, _b, g in pairs if g is not None]
    return Gain(
        pairs=len(pairs),
        pre_takers=sum(1 for p in people if p.pre_score is not None),
        post_takers=sum(1 for p in people if p.post_score is not None),
        pre_mean=pre_mean, post_mean=post_mean, class_gain=class_gain,
        mean_gain=mean(individual) if individual else None, bands=bands, rows=rows)
