"""Essay marking: the exam's marking plan, blind response codes, ratings and final scores.

A rater sees a response only by an opaque code (an HMAC of the paper item under the
exam's secret seed), never the candidate's name or number. With two raters each marks
without seeing the other's score; the final score is their mean unless they differ by
more than the plan's threshold, when the response waits for an adjudicator (the plan's,
or else the exam's owner) whose score is final. Every rating and plan change is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.accounts.models import User
from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt.content import ItemContent, ItemKey
from plugins.cbt.marking.models import MarkingPlan, Rating
from plugins.cbt.models import Attempt, AttemptItem, Exam, ItemVersion

State = Literal["open", "adjudication", "final"]
_EPS = 1e-9


class MarkingError(ValueError):
    """A marking action refused; the message says why."""


# -- the plan --------------------------------------------------------------------------------


class PlanForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raters_per_response: Literal[1, 2] = 1
    threshold: float = Field(default=1.0, ge=0, le=1000)
    rater_ids: list[int] = Field(default_factory=list, max_length=50)
    adjudicator_id: int | None = None

    @model_validator(mode="after")
    def _people(self) -> PlanForm:
        if len(set(self.rater_ids)) != len(self.rater_ids):
            raise ValueError("a rater is listed twice")
        if self.raters_per_response == 2 and len(self.rater_ids) == 1:
            raise ValueError("two raters per response need at least two raters")
        if self.adjudicator_id is not None and self.adjudicator_id in self.rater_ids:
            raise ValueError("the adjudicator must be a third person, not one of the raters")
        return self


def plan_of(session: Session, exam: Exam) -> MarkingPlan:
    """The exam's plan; an unsaved default (one rater, any exam author) when none is stored."""
    plan = session.get(MarkingPlan, exam.id)
    return plan if plan is not None else MarkingPlan(
        exam_id=exam.id, raters_per_response=1, threshold=1.0, rater_ids=[],
        adjudicator_id=None)


def save_plan(session: Session, exam: Exam, form: PlanForm, actor: Any) -> MarkingPlan:
    for uid in [*form.rater_ids, *([form.adjudicator_id] if form.adjudicator_id else [])]:
        user = session.get(User, uid)
        if user is None or not user.active:
            raise MarkingError(f"user {uid} does not exist or is inactive")
    if session.scalar(select(Rating.id).where(Rating.exam_id == exam.id).limit(1)):
        current = plan_of(session, exam)
        if current.raters_per_response != form.raters_per_response:
            raise MarkingError("essays have been marked: the number of raters can no longer "
                               "change")
    plan = session.get(MarkingPlan, exam.id)
    if plan is None:
        plan = MarkingPlan(exam_id=exam.id)
        session.add(plan)
    plan.raters_per_response = form.raters_per_response
    plan.threshold = form.threshold
    plan.rater_ids = list(form.rater_ids)
    plan.adjudicator_id = form.adjudicator_id
    plan.updated_at, plan.updated_by = utcnow(), getattr(actor, "id", None)
    audit(session, "cbt.marking.plan", actor=actor, object_type="cbt_exam", object_id=exam.id,
          details=form.model_dump())
    return plan


def adjudicator_id(plan: MarkingPlan, exam: Exam) -> int | None:
    return plan.adjudicator_id or exam.created_by


# -- responses -------------------------------------------------------------------------------


def blind_code(exam: Exam, attempt_item_id: int) -> str:
    """An opaque, stable code for one essay response; it tells nothing about who wrote it."""
    digest = hmac.new(bytes.fromhex(exam.seed), f"essay:{attempt_item_id}".encode(),
                      hashlib.sha256).digest()
    text = base64.b32encode(digest[:5]).decode()  # 8 characters
    return f"E-{text[:4]}-{text[4:]}"


@dataclass
class EssayResponse:
    attempt_item_id: int
    code: str
    version_id: int
    item_id: int
    points: float  # what the paper gives the item
    item_points: float  # what the item version is worth (the rubric's scale)
    text: str
    ratings: list[Rating] = field(default_factory=list)
    state: State = "open"
    final: float | None = None


def final_score(plan: MarkingPlan, ratings: Iterable[Rating]) -> tuple[State, float | None]:
    """The state of a response and its final score, from its ratings and the plan."""
    ratings = list(ratings)
    adjudicated = [r for r in ratings if r.role == "adjudicator"]
    if adjudicated:
        return "final", adjudicated[-1].score
    raters = sorted((r for r in ratings if r.role == "rater"), key=lambda r: r.id or 0)
    need = plan.raters_per_response or 1
    if len(raters) < need:
        return "open", None
    if need == 1:
        return "final", raters[0].score
    a, b = raters[0].score, raters[1].score
    if abs(a - b) > (plan.threshold or 0.0) + _EPS:
        return "adjudication", None
    return "final", (a + b) / 2


def marking_ready(session: Session) -> bool:
    return "cbt_ratings" in set(inspect(session.get_bind()).get_table_names())


def final_marks(session: Session, exam: Exam) -> dict[int, float]:
    """Final essay scores of ``exam`` by attempt item id (responses still open are left out)."""
    if not marking_ready(session):
        return {}
    plan = plan_of(session, exam)
    by_item: dict[int, list[Rating]] = {}
    for r in session.scalars(select(Rating).where(Rating.exam_id == exam.id)
                             .order_by(Rating.id)):
        by_item.setdefault(r.attempt_item_id, []).append(r)
    out: dict[int, float] = {}
    for item_id, ratings in by_item.items():
        state, score = final_score(plan, ratings)
        if state == "final" and score is not None:
            out[item_id] = score
    return out


def _submitted_attempts(session: Session, exam: Exam) -> list[Attempt]:
    from plugins.cbt.analysis.source import delivery_ready

    if not delivery_ready(session):
        return []
    from plugins.cbt.delivery.models import DeliveryAttempt

    return list(session.scalars(
        select(Attempt).join(DeliveryAttempt, DeliveryAttempt.attempt_id == Attempt.id)
        .where(Attempt.exam_id == exam.id, DeliveryAttempt.state == "submitted")))


def _latest_answers(session: Session, attempt_id: int) -> dict[int, Any]:
    from plugins.cbt.delivery.models import Answer

    return {int(p): v for p, v in session.execute(
        select(Answer.position, Answer.value).where(Answer.attempt_id == attempt_id)
        .order_by(Answer.seq))}


def essay_responses(session: Session, exam: Exam) -> list[EssayResponse]:
    """Every essay response of the exam's submitted papers, in code order (not by candidate)."""
    plan = plan_of(session, exam)
    ratings: dict[int, list[Rating]] = {}
    for r in session.scalars(select(Rating).where(Rating.exam_id == exam.id)
                             .order_by(Rating.id)):
        ratings.setdefault(r.attempt_item_id, []).append(r)
    dropped = _dropped_versions(session, exam)
    out: list[EssayResponse] = []
    for attempt in _submitted_attempts(session, exam):
        answers: dict[int, Any] | None = None
        for ai in attempt.items:
            version = session.get(ItemVersion, ai.item_version_id)
            if version is None or version.type != "essay" or version.id in dropped:
                continue
            if answers is None:
                answers = _latest_answers(session, attempt.id)
            value = answers.get(ai.position)
            text = value if isinstance(value, str) else ""
            mine = ratings.get(ai.id, [])
            state, final = final_score(plan, mine)
            out.append(EssayResponse(ai.id, blind_code(exam, ai.id), version.id,
                                     version.item_id, ai.points, version.points, text,
                                     mine, state, final))
    out.sort(key=lambda r: (r.item_id, r.code))
    return out


def _dropped_versions(session: Session, exam: Exam) -> set[int]:
    from plugins.cbt.marking.corrections import active_corrections

    return {vid for vid, c in active_corrections(session, exam).items() if c.kind != "key"}


def response_by_code(session: Session, exam: Exam, code: str) -> EssayResponse | None:
    code = code.strip().upper()
    return next((r for r in essay_responses(session, exam) if r.code == code), None)


def item_text(session: Session, version_id: int) -> tuple[ItemContent, ItemKey]:
    from plugins.cbt.bank import open_version

    version = session.get(ItemVersion, version_id)
    assert version is not None
    return open_version(session, version)


# -- who marks what ----------------------------------------------------------------------------


def role_for(session: Session, exam: Exam, response: EssayResponse, user: Any
             ) -> Literal["rater", "adjudicator"] | None:
    """What ``user`` may do with ``response`` now: rate it, adjudicate it, or nothing."""
    uid = getattr(user, "id", None)
    if uid is None or any(r.rater_id == uid for r in response.ratings):
        return None
    plan = plan_of(session, exam)
    if response.state == "open":
        if plan.rater_ids:
            return "rater" if uid in plan.rater_ids else None
        return "rater" if can(user, "cbt.author") else None
    if response.state == "adjudication":
        named = adjudicator_id(plan, exam)
        rated = {r.rater_id for r in response.ratings}
        # The adjudicator is a third person: when the named one (say the exam's owner)
        # was one of the two raters, any other exam author adjudicates instead.
        if named is not None and named not in rated:
            return "adjudicator" if uid == named else None
        return "adjudicator" if can(user, "cbt.author") else None
    return None


def may_open_marking(session: Session, exam: Exam, user: Any) -> bool:
    plan = plan_of(session, exam)
    uid = getattr(user, "id", None)
    return can(user, "cbt.author") or uid in (plan.rater_ids or []) or (
        uid is not None and uid == adjudicator_id(plan, exam))


# -- rating ------------------------------------------------------------------------------------


class ScoreForm(BaseModel):
    """A rater's mark. Validate with ``context={"points": .., "item_points": .., "criteria":
    [...]}``: the score must lie within the item's points; with a rubric, every criterion
    needs one of its levels and the score is their sum (scaled to the paper's points)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: float | None = None
    levels: dict[str, int] = Field(default_factory=dict)
    comment: str = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> ScoreForm:
        ctx = info.context or {}
        points = float(ctx.get("points", 0.0))
        item_points = float(ctx.get("item_points") or points or 1.0)
        criteria = ctx.get("criteria") or []
        if criteria:
            total = 0.0
            unknown = set(self.levels) - {c.id for c in criteria}
            if unknown:
                raise ValueError(f"unknown rubric criteria: {', '.join(sorted(unknown))}")
            for c in criteria:
                chosen = self.levels.get(c.id)
                if chosen is None:
                    raise ValueError(f"choose a level for the criterion {c.title!r}")
                if not 0 <= chosen < len(c.levels):
                    raise ValueError(f"criterion {c.title!r} has no level {chosen + 1}")
                total += c.levels[chosen].points
            computed = round(total * points / item_points, 4)
            if self.score is not None and abs(self.score - computed) > 1e-6:
                raise ValueError(f"the score {self.score:g} does not match the rubric levels "
                                 f"chosen ({computed:g})")
            self.score = computed
        if self.score is None:
            raise ValueError("give a score")
        if not 0 <= self.score <= points + _EPS:
            raise ValueError(f"the score must be between 0 and {points:g}")
        return self


def score_form(data: dict[str, Any], response: EssayResponse, key: ItemKey) -> ScoreForm:
    return ScoreForm.model_validate(data, context={
        "points": response.points, "item_points": response.item_points,
        "criteria": key.criteria})


def rate(session: Session, exam: Exam, code: str, user: Any, form: ScoreForm) -> Rating:
    """Store ``user``'s mark of the response ``code`` (one mark per person, then final)."""
    response = response_by_code(session, exam, code)
    if response is None:
        raise MarkingError("no essay response has this code")
    role = role_for(session, exam, response, user)
    if role is None:
        if any(r.rater_id == getattr(user, "id", None) for r in response.ratings):
            raise MarkingError("you have already marked this response")
        raise MarkingError("this response is not waiting for you")
    assert form.score is not None
    row = Rating(exam_id=exam.id, attempt_item_id=response.attempt_item_id, rater_id=user.id,
                 role=role, score=form.score, levels=dict(form.levels), comment=form.comment)
    session.add(row)
    session.flush()
    state, final = final_score(plan_of(session, exam), [*response.ratings, row])
    audit(session, "cbt.essay.rated", actor=user, object_type="cbt_attempt_item",
          object_id=response.attempt_item_id,
          details={"code": response.code, "role": role, "score": form.score,
                   "state": state, "final": final, "exam": exam.id})
    return row


@dataclass(frozen=True)
class Progress:
    total: int
    final: int
    adjudication: int
    open: int
    mine: int  # responses waiting for the viewer


def progress(session: Session, exam: Exam, responses: list[EssayResponse], user: Any
             ) -> Progress:
    return Progress(
        len(responses), sum(1 for r in responses if r.state == "final"),
        sum(1 for r in responses if r.state == "adjudication"),
        sum(1 for r in responses if r.state == "open"),
        sum(1 for r in responses if role_for(session, exam, r, user) is not None))


def paper_item(session: Session, attempt_item_id: int) -> AttemptItem | None:
    return session.get(AttemptItem, attempt_item_id)
