"""The knowledge check as an exam of another plugin (the CBT plugin), through the core's
``ruang_assessments`` and ``ruang_assessment_scores`` hooks: staff pick two exams, and the
scores come back matched to participants by NIP/NIM, e-mail or account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.contracts import Assessment, AssessmentScore
from core.instance import ruang
from plugins.training.errors import N_, TrainingError
from plugins.training.models import CheckMode, Participant, ParticipantStatus, Training


def available(session: Session, query: str = "") -> list[Assessment]:
    """Exams that enabled plugins offer as a knowledge check, by title."""
    found: list[Assessment] = ruang().plugins.collect("ruang_assessments", session=session,
                                                      query=query.strip())
    unique: dict[str, Assessment] = {}
    for item in found:
        unique.setdefault(item.ref, item)
    return sorted(unique.values(), key=lambda a: a.title.lower())


def scores(session: Session, ref: str) -> list[AssessmentScore] | None:
    """The results of exam ``ref``; ``None`` when no enabled plugin knows it."""
    answer = ruang().plugins.hook.ruang_assessment_scores(session=session, ref=ref)
    return None if answer is None else list(answer)


@dataclass(frozen=True)
class Collected:
    phase: str
    matched: int
    unmatched: int


def _match(people: list[Participant], score: AssessmentScore) -> Participant | None:
    ident = score.identifier.strip().lower()
    email = score.email.strip().lower()
    for p in people:
        if ident and p.identifier and p.identifier.lower() == ident:
            return p
    for p in people:
        if email and p.email.lower() == email:
            return p
    for p in people:
        if score.user_id is not None and p.user_id == score.user_id:
            return p
    return None


def collect(session: Session, training: Training, actor: object) -> list[Collected]:
    """Copy the pre- and post-test scores of the chosen exams onto the participants.

    Raises :class:`TrainingError` when the training does not use exams or no enabled
    plugin knows one of them; nothing is changed then.
    """
    if training.check_mode != CheckMode.EXTERNAL.value:
        raise TrainingError(N_("This training uses no exam of another plugin."), kind="state",
                            http=409)
    people = list(session.scalars(select(Participant).where(
        Participant.training_id == training.id,
        Participant.status == ParticipantStatus.REGISTERED.value)))
    results: dict[str, list[AssessmentScore]] = {}
    for phase, ref in (("pre", training.pre_ref), ("post", training.post_ref)):
        found = scores(session, ref)
        if found is None:
            raise TrainingError(N_("No enabled plugin knows the exam %(ref)s; is the CBT plugin "
                                "switched on?"), kind="unavailable", http=409, ref=ref)
        results[phase] = found
    out = []
    for phase, found in results.items():
        matched = unmatched = 0
        for score in found:
            person = _match(people, score)
            if person is None:
                unmatched += 1
                continue
            value = max(0.0, min(100.0, float(score.score)))
            setattr(person, f"{phase}_score", value)
            matched += 1
        out.append(Collected(phase, matched, unmatched))
    session.flush()
    audit(session, "training.scores.collect", actor=actor, object_type="training",
          object_id=training.id, details={c.phase: {"matched": c.matched,
                                                    "unmatched": c.unmatched} for c in out})
    return out
