"""Tables of marking: who marks an exam's essays, their ratings, key corrections and their
rescoring log, and when an exam's results are released to candidates.

Scores are never stored as totals: a result is recomputed from the answer log, the item
keys, the :class:`KeyCorrection` rows and the final :class:`Rating` of each essay, so a
correction changes every result at once and the log row only records what it changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

__all__ = ["MODELS", "KeyCorrection", "MarkingPlan", "Rating", "RescoreRun", "ResultRelease"]


class MarkingPlan(Base):
    """How an exam's essays are marked: by one or two raters, and when two disagree."""

    __tablename__ = "cbt_marking_plans"

    exam_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_exams.id", ondelete="CASCADE"), primary_key=True)
    raters_per_response: Mapped[int] = mapped_column(Integer, default=1)  # 1 or 2
    # Two ratings further apart than this (in points) go to adjudication.
    threshold: Mapped[float] = mapped_column(Float, default=1.0)
    rater_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    adjudicator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(default=None)


class Rating(Base):
    """One person's mark of one essay response (an item of an attempt's paper)."""

    __tablename__ = "cbt_ratings"
    __table_args__ = (UniqueConstraint("attempt_item_id", "rater_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id"), index=True)
    attempt_item_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_attempt_items.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(12), default="rater")  # rater | adjudicator
    score: Mapped[float] = mapped_column(Float)
    levels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # criterion -> level
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeyCorrection(Base):
    """A correction of an item version's key for one exam, with its reason.

    ``kind``: ``key`` (``key_enc`` holds the corrected key, sealed under the exam's data
    key like the rest of its content), ``full`` (the item is voided: full marks to every
    candidate) or ``drop`` (voided and left out of every total and maximum). The latest
    row of an item version that is not ``revoked`` is the one that applies.
    """

    __tablename__ = "cbt_key_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("cbt_item_versions.id"))
    kind: Mapped[str] = mapped_column(String(8))
    key_enc: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    reason: Mapped[str] = mapped_column(Text)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class RescoreRun(Base):
    """What one key correction changed: every submitted attempt's total before and after."""

    __tablename__ = "cbt_rescore_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id"), index=True)
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("cbt_key_corrections.id"), default=None)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"attempt": id, "before": total, "after": total, "max_before": .., "max_after": ..}]
    totals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class ResultRelease(Base):
    """When an exam's results reach candidates (the policy itself is ``Exam.show_score``):
    the date for ``at_date``, the release by staff for ``manual``."""

    __tablename__ = "cbt_result_releases"

    exam_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_exams.id", ondelete="CASCADE"), primary_key=True)
    release_at: Mapped[datetime | None] = mapped_column(default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS: list[type] = [MarkingPlan, Rating, KeyCorrection, RescoreRun, ResultRelease]
