"""Exams: sections of fixed or drawn items, timing, attempts, scoring rules and papers.

A draft exam refers to items; publishing pins the item versions it uses (the fixed
items' current versions and every draw's whole pool). A candidate's paper is then a pure
function of the pinned exam and the attempt's seed: which items a draw picks, their order
within each section and the order of each item's options. The seed is stored with the
attempt, so :func:`build_paper` rebuilds any paper exactly, e.g. to explain a result.
The seed comes from the exam's secret seed and the candidate and attempt number (HMAC),
so neighbours in a lab get different papers and nobody can predict one.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt import crypto
from plugins.cbt.bank import open_version
from plugins.cbt.models import (
    Attempt,
    AttemptItem,
    Bank,
    Candidate,
    Category,
    Exam,
    ExamSection,
    ExamSlot,
    Item,
    ItemVersion,
)
from plugins.cbt.richtext import sanitize

Policy = Literal["never", "after_submit", "after_close"]
# When scores reach candidates; ``at_date`` and ``manual`` are completed by
# ``plugins.cbt.marking.release`` (the date, the staff's release).
ScorePolicy = Literal["never", "after_submit", "after_close", "at_date", "manual"]
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


class ExamError(ValueError):
    """An exam change that is refused; the message says why."""


class ExamSettings(BaseModel):
    """Everything about an exam except its items, as forms and the CLI give it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=20)
    title: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=100_000)
    duration_min: int = Field(default=60, ge=1, le=600)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    max_attempts: int = Field(default=1, ge=1, le=10)
    shuffle_items: bool = True
    shuffle_options: bool = True
    pass_mark: float = Field(default=0.0, ge=0, le=100)
    negative_marking: float = Field(default=0.0, ge=0, le=1)
    show_score: ScorePolicy = "after_close"
    show_answers: Policy = "never"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.upper()
        if not CODE_RE.match(value):
            raise ValueError("use 2-20 capital letters, digits and '-', e.g. UTS-KAL-24")
        return value

    @field_validator("instructions")
    @classmethod
    def _clean(cls, value: str) -> str:
        return sanitize(value) if value else ""

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone (e.g. +07:00)")
        return value

    @model_validator(mode="after")
    def _window(self) -> ExamSettings:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("the exam must close after it opens")
        return self


# -- exams ---------------------------------------------------------------------------------


def create_exam(session: Session, settings: ExamSettings, actor: Any = None) -> Exam:
    if session.scalar(select(Exam.id).where(Exam.code == settings.code)):
        raise ExamError(f"an exam with code {settings.code} already exists")
    key = crypto.new_data_key(session, "exam")
    exam = Exam(code=settings.code, title=settings.title, data_key_id=key.id,
                seed=secrets.token_hex(32), created_by=getattr(actor, "id", None))
    session.add(exam)
    session.flush()
    key.purpose = f"exam:{exam.id}"
    _apply(session, exam, settings)
    audit(session, "cbt.exam.created", actor=actor, object_type="cbt_exam", object_id=exam.id,
          details={"code": exam.code})
    return exam


def _apply(session: Session, exam: Exam, s: ExamSettings) -> None:
    exam.title = s.title
    exam.duration_min = s.duration_min
    exam.opens_at, exam.closes_at = s.opens_at, s.closes_at
    exam.max_attempts = s.max_attempts
    exam.shuffle_items, exam.shuffle_options = s.shuffle_items, s.shuffle_options
    exam.pass_mark, exam.negative_marking = s.pass_mark, s.negative_marking
    exam.show_score, exam.show_answers = s.show_score, s.show_answers
    exam.instructions_enc = crypto.seal(session, exam.data_key_id, Exam.__tablename__, exam.id,
                                        "instructions", s.instructions.encode())


def update_exam(session: Session, exam: Exam, settings: ExamSettings, actor: Any = None) -> None:
    if settings.code != exam.code:
        raise ExamError("an exam's code cannot change (participant numbers are made from it)")
    if exam.status != "draft" and _content_changes(exam, settings):
        raise ExamError("the exam is published: unpublish it to change its rules")
    _apply(session, exam, settings)
    audit(session, "cbt.exam.updated", actor=actor, object_type="cbt_exam", object_id=exam.id)


def _content_changes(exam: Exam, s: ExamSettings) -> bool:
    # Timing and what candidates see afterwards may still change once published; what
    # decides papers and scores may not.
    return (exam.shuffle_items, exam.shuffle_options, exam.negative_marking, exam.pass_mark) \
        != (s.shuffle_items, s.shuffle_options, s.negative_marking, s.pass_mark)


def settings_of(session: Session, exam: Exam) -> ExamSettings:
    return ExamSettings(
        code=exam.code, title=exam.title, instructions=instructions(session, exam),
        duration_min=exam.duration_min, opens_at=exam.opens_at, closes_at=exam.closes_at,
        max_attempts=exam.max_attempts, shuffle_items=exam.shuffle_items,
        shuffle_options=exam.shuffle_options, pass_mark=exam.pass_mark,
        negative_marking=exam.negative_marking,
        show_score=exam.show_score, show_answers=exam.show_answers,  # type: ignore[arg-type]
    )


def instructions(session: Session, exam: Exam) -> str:
    if not exam.instructions_enc:
        return ""
    return crypto.unseal(session, exam.data_key_id, Exam.__tablename__, exam.id, "instructions",
                         exam.instructions_enc).decode()


def exam_by_code(session: Session, code: str) -> Exam | None:
    return session.scalar(select(Exam).where(Exam.code == code.strip().upper()))


def exams(session: Session) -> list[Exam]:
    return list(session.scalars(select(Exam).order_by(Exam.created_at.desc(), Exam.id.desc())))


def _draft_only(exam: Exam) -> None:
    if exam.status != "draft":
        raise ExamError("the exam is published: unpublish it to change its sections and items")


def add_section(session: Session, exam: Exam, title: str = "") -> ExamSection:
    _draft_only(exam)
    position = len(exam.sections) + 1
    section = ExamSection(exam_id=exam.id, position=position,
                          title=title.strip()[:200] or f"Bagian {position}")
    exam.sections.append(section)
    session.flush()
    return section


def add_fixed(session: Session, exam: Exam, section: ExamSection, item: Item,
              points: float | None = None) -> ExamSlot:
    _draft_only(exam)
    if item.archived:
        raise ExamError(f"item {item.id} is archived")
    if any(s.kind == "fixed" and s.item_id == item.id for sec in exam.sections
           for s in sec.slots):
        raise ExamError(f"item {item.id} is already in the exam")
    slot = ExamSlot(section_id=section.id, position=len(section.slots) + 1, kind="fixed",
                    item_id=item.id, count=1, points=_points(points))
    section.slots.append(slot)
    session.flush()
    return slot


def add_draw(session: Session, exam: Exam, section: ExamSection, category: Category,
             count: int, points: float | None = None) -> ExamSlot:
    _draft_only(exam)
    if not 1 <= count <= 1000:
        raise ExamError("draw between 1 and 1000 items")
    available = len(_pool(session, category.id))
    if count > available:
        raise ExamError(f"category {category.name!r} has {available} items; cannot draw {count}")
    slot = ExamSlot(section_id=section.id, position=len(section.slots) + 1, kind="draw",
                    category_id=category.id, count=count, points=_points(points))
    section.slots.append(slot)
    session.flush()
    return slot


def _points(points: float | None) -> float | None:
    if points is not None and not 0 < points <= 1000:
        raise ExamError("points per item are between 0 and 1000")
    return points


def remove_slot(session: Session, exam: Exam, slot_id: int) -> None:
    _draft_only(exam)
    for section in exam.sections:
        for slot in section.slots:
            if slot.id == slot_id:
                section.slots.remove(slot)
                session.flush()
                return
    raise ExamError("no such rule in this exam")


def _pool(session: Session, category_id: int) -> list[int]:
    """Current version ids of the category's items, in a stable order."""
    rows = session.execute(
        select(ItemVersion.id).join(Item, Item.id == ItemVersion.item_id).where(
            Item.category_id == category_id, Item.archived.is_(False),
            ItemVersion.number == Item.current_version).order_by(ItemVersion.id)
    ).scalars().all()
    return [int(r) for r in rows]


def publish(session: Session, exam: Exam, actor: Any = None) -> None:
    """Pin the item versions the exam uses; papers can be made from then on."""
    if exam.status != "draft":
        raise ExamError("the exam is already published")
    slots = [s for sec in exam.sections for s in sec.slots]
    if not slots:
        raise ExamError("the exam has no items: add fixed items or draws to a section")
    fixed_versions: set[int] = set()
    for slot in slots:
        if slot.kind == "fixed":
            item = session.get(Item, slot.item_id)
            if item is None or item.archived:
                raise ExamError(f"item {slot.item_id} no longer exists or is archived")
            version = session.scalar(select(ItemVersion.id).where(
                ItemVersion.item_id == item.id, ItemVersion.number == item.current_version))
            assert version is not None
            slot.pinned = [int(version)]
            fixed_versions.add(int(version))
    for slot in slots:
        if slot.kind == "draw":
            assert slot.category_id is not None
            # A draw never repeats an item that is also fixed in the exam.
            pool = [v for v in _pool(session, slot.category_id) if v not in fixed_versions]
            if len(pool) < slot.count:
                cat = session.get(Category, slot.category_id)
                raise ExamError(f"category {cat.name if cat else '?'!r} has {len(pool)} items "
                                f"left to draw from; the exam draws {slot.count}")
            slot.pinned = pool
    exam.status = "published"
    exam.published_at = utcnow()
    audit(session, "cbt.exam.published", actor=actor, object_type="cbt_exam", object_id=exam.id,
          details={"items": sum(len(s.pinned or []) for s in slots)})


def unpublish(session: Session, exam: Exam, actor: Any = None) -> None:
    if exam.status != "published":
        raise ExamError("the exam is not published")
    if session.scalar(select(func.count()).select_from(Attempt).where(Attempt.exam_id == exam.id)):
        raise ExamError("candidates have papers of this exam; it can no longer change")
    for section in exam.sections:
        for slot in section.slots:
            slot.pinned = None
    exam.status = "draft"
    exam.published_at = None
    audit(session, "cbt.exam.unpublished", actor=actor, object_type="cbt_exam", object_id=exam.id)


# -- papers --------------------------------------------------------------------------------


@dataclass
class PaperItem:
    position: int
    section_id: int
    slot_id: int
    version_id: int
    points: float
    option_order: dict[str, list[str]] = field(default_factory=dict)


def attempt_seed(exam: Exam, candidate_id: int, number: int) -> str:
    return hmac.new(bytes.fromhex(exam.seed), f"{candidate_id}:{number}".encode(),
                    hashlib.sha256).hexdigest()


def _shuffle(rng: random.Random, values: list[Any]) -> list[Any]:
    # Fisher-Yates on randrange, whose output for a seed Python keeps stable.
    out = list(values)
    for i in range(len(out) - 1, 0, -1):
        j = rng.randrange(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def build_paper(session: Session, exam: Exam, seed: str) -> list[PaperItem]:
    """The paper for ``seed``: the same seed and pinned exam give the same paper."""
    if exam.status == "draft":
        raise ExamError("publish the exam before making papers")
    rng = random.Random(int(seed, 16))  # noqa: S311 - shuffling, not secrecy; seed is secret
    paper: list[PaperItem] = []
    for section in exam.sections:
        chosen: list[tuple[ExamSlot, int]] = []
        for slot in section.slots:
            pinned = list(slot.pinned or [])
            picks = pinned if slot.kind == "fixed" else _shuffle(rng, pinned)[: slot.count]
            chosen.extend((slot, v) for v in picks)
        if exam.shuffle_items:
            chosen = _shuffle(rng, chosen)
        for slot, version_id in chosen:
            version = session.get(ItemVersion, version_id)
            if version is None:
                raise ExamError(f"item version {version_id} is missing")
            order: dict[str, list[str]] = {}
            if exam.shuffle_options and version.type in ("single", "multiple", "matching"):
                content, _key = open_version(session, version)
                if version.type == "matching":
                    order["answers"] = _shuffle(rng, [a.id for a in content.answers])
                else:
                    order["choices"] = _shuffle(rng, [c.id for c in content.choices])
            paper.append(PaperItem(
                position=len(paper) + 1, section_id=section.id, slot_id=slot.id,
                version_id=version_id,
                points=slot.points if slot.points is not None else version.points,
                option_order=order))
    return paper


def max_points(session: Session, exam: Exam) -> float:
    """The most a candidate can score (every paper of a published exam has the same)."""
    total = 0.0
    for section in exam.sections:
        for slot in section.slots:
            if slot.points is not None:
                total += slot.points * slot.count
            elif slot.kind == "fixed" and slot.item_id is not None:
                item = session.get(Item, slot.item_id)
                version = session.scalar(select(ItemVersion).where(
                    ItemVersion.item_id == slot.item_id,
                    ItemVersion.number == (item.current_version if item else 1)))
                total += version.points if version else 0.0
            else:
                ids = slot.pinned or (_pool(session, slot.category_id) if slot.category_id else [])
                pts = [session.get(ItemVersion, v).points for v in ids]  # type: ignore[union-attr]
                # Drawn items may differ in points; report the mean as the expectation.
                total += (sum(pts) / len(pts)) * slot.count if pts else 0.0
    return round(total, 4)


def start_attempt(session: Session, exam: Exam, candidate: Candidate,
                  actor: Any = None) -> Attempt:
    """Make the candidate's next attempt with its paper (its items are frozen from now)."""
    if exam.status != "published":
        raise ExamError("the exam is not published")
    if candidate.exam_id != exam.id:
        raise ExamError("the candidate is not on this exam's roster")
    done = session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.candidate_id == candidate.id)) or 0
    if done >= exam.max_attempts:
        raise ExamError(f"the candidate has used all {exam.max_attempts} attempt(s)")
    number = int(done) + 1
    seed = attempt_seed(exam, candidate.id, number)
    attempt = Attempt(exam_id=exam.id, candidate_id=candidate.id, number=number, seed=seed)
    for p in build_paper(session, exam, seed):
        attempt.items.append(AttemptItem(
            position=p.position, section_id=p.section_id, slot_id=p.slot_id,
            item_version_id=p.version_id, points=p.points, option_order=p.option_order))
    session.add(attempt)
    session.flush()
    audit(session, "cbt.attempt.created", actor=actor, object_type="cbt_attempt",
          object_id=attempt.id, details={"exam": exam.id, "candidate": candidate.id,
                                         "number": number})
    return attempt


def review_policy(exam: Exam, *, submitted: bool, now: datetime | None = None,
                  release: Any = None) -> dict[str, bool]:
    """What a candidate may see of their attempt now: the score, the right answers.

    ``release`` is the exam's ``ResultRelease`` row (its date, the staff's release)."""
    from plugins.cbt.marking.release import released

    now = now or utcnow()
    closed = exam.status == "closed" or (exam.closes_at is not None and now >= exam.closes_at)

    def allowed(policy: str) -> bool:
        return (policy == "after_submit" and submitted) or (policy == "after_close" and closed)

    return {"score": released(exam, release, submitted=submitted, now=now),
            "answers": allowed(exam.show_answers)}


def bank_of_item(session: Session, item_id: int) -> Bank | None:
    item = session.get(Item, item_id)
    return session.get(Bank, item.bank_id) if item else None
