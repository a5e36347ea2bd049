"""Tables of the CBT plugin: question banks, versioned items, exams, candidates, papers.

What a candidate reads or what gives an answer away (item bodies, options, answer keys,
images, exam instructions) is stored sealed (``*_enc`` columns, see ``plugins.cbt.crypto``);
what staff filter and sort by (names, types, categories, tags, counts, times) is plain.

Items are versioned. An :class:`ItemVersion` that a candidate's paper refers to
(:class:`AttemptItem`) is frozen: editing its item makes a new version, so results already
given stay explainable by the exact text and key the candidate saw. A published exam pins
the versions it draws from (:attr:`ExamSlot.pinned`), which makes every candidate's paper
reproducible from the exam and the attempt's stored seed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from plugins.cbt.crypto import DataKey
from plugins.cbt.marking.models import MODELS as MARKING_MODELS

__all__ = [
    "Asset", "Attempt", "AttemptItem", "Bank", "Candidate", "Category", "CbtEvent", "CbtSession",
    "DataKey", "Exam",
    "ExamSection", "ExamSlot", "Item", "ItemTag", "ItemVersion", "Tag",
]


class Bank(Base):
    """A question bank; its content is sealed under its own data key."""

    __tablename__ = "cbt_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    data_key_id: Mapped[int] = mapped_column(ForeignKey("cbt_data_keys.id"))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(default=None)


class Category(Base):
    """A category of a bank, named by its path (``Aljabar/Matriks``) as GIFT names them."""

    __tablename__ = "cbt_categories"
    __table_args__ = (UniqueConstraint("bank_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("cbt_banks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))


class Tag(Base):
    __tablename__ = "cbt_tags"
    __table_args__ = (UniqueConstraint("bank_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("cbt_banks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))


class ItemTag(Base):
    __tablename__ = "cbt_item_tags"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_items.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Item(Base):
    """A question's identity in a bank; its text and key live in its versions."""

    __tablename__ = "cbt_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("cbt_banks.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("cbt_categories.id"), index=True, default=None
    )
    type: Mapped[str] = mapped_column(String(20))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(default=None)

    tags: Mapped[list[Tag]] = relationship(secondary="cbt_item_tags", lazy="selectin")


class ItemVersion(Base):
    """One version of an item: sealed ``content`` (what candidates see) and ``key``.

    ``key`` (answer key, weights, tolerances, rubric) never leaves the server; ``content``
    is what a paper shows.
    """

    __tablename__ = "cbt_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("cbt_items.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    points: Mapped[float] = mapped_column(Float, default=1.0)
    content_enc: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    key_enc: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(default=None)


class Asset(Base):
    """An image of a bank, sealed; HTML refers to it as ``cbt-asset:<id>``."""

    __tablename__ = "cbt_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("cbt_banks.id"), index=True)
    mime: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer, default=0)
    data_enc: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Exam(Base):
    """An exam: sections of items, timing, attempts, scoring and what candidates see after."""

    __tablename__ = "cbt_exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    data_key_id: Mapped[int] = mapped_column(ForeignKey("cbt_data_keys.id"))
    instructions_enc: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    duration_min: Mapped[int] = mapped_column(Integer, default=60)
    opens_at: Mapped[datetime | None] = mapped_column(default=None)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    shuffle_items: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark: Mapped[float] = mapped_column(Float, default=0.0)  # percent of the maximum
    negative_marking: Mapped[float] = mapped_column(Float, default=0.0)  # share of item points
    show_score: Mapped[str] = mapped_column(String(20), default="after_close")
    show_answers: Mapped[str] = mapped_column(String(20), default="never")
    seed: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    sections: Mapped[list[ExamSection]] = relationship(
        order_by="ExamSection.position", lazy="selectin", cascade="all, delete-orphan"
    )


class ExamSection(Base):
    __tablename__ = "cbt_exam_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200), default="")

    slots: Mapped[list[ExamSlot]] = relationship(
        order_by="ExamSlot.position", lazy="selectin", cascade="all, delete-orphan"
    )


class ExamSlot(Base):
    """One rule of a section: a fixed item, or ``count`` items drawn from a category.

    ``pinned`` holds the item version ids chosen when the exam is published: the fixed
    item's version, or the whole pool a draw picks from.
    """

    __tablename__ = "cbt_exam_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_exam_sections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10))  # "fixed" | "draw"
    item_id: Mapped[int | None] = mapped_column(ForeignKey("cbt_items.id"), default=None)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("cbt_categories.id"), default=None)
    count: Mapped[int] = mapped_column(Integer, default=1)
    points: Mapped[float | None] = mapped_column(Float, default=None)  # None: the item's own
    pinned: Mapped[list[int] | None] = mapped_column(JSON, default=None)


class Candidate(Base):
    """A person on an exam's roster, with the participant number they sign in with."""

    __tablename__ = "cbt_candidates"
    __table_args__ = (UniqueConstraint("exam_id", "student_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id", ondelete="CASCADE"), index=True)
    student_number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    class_name: Mapped[str] = mapped_column(String(80), default="")
    programme: Mapped[str] = mapped_column(String(200), default="")
    participant_number: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    password_set_at: Mapped[datetime | None] = mapped_column(default=None)
    lab: Mapped[str] = mapped_column(String(120), default="")
    seat: Mapped[str] = mapped_column(String(40), default="")
    session_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """A candidate's sitting of an exam; its paper (items, order) is fixed at creation."""

    __tablename__ = "cbt_attempts"
    __table_args__ = (UniqueConstraint("candidate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("cbt_candidates.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[AttemptItem]] = relationship(
        order_by="AttemptItem.position", lazy="selectin", cascade="all, delete-orphan"
    )


class AttemptItem(Base):
    """One question of a paper: the exact item version and the candidate's option order."""

    __tablename__ = "cbt_attempt_items"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_attempts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    section_id: Mapped[int | None] = mapped_column(Integer, default=None)
    slot_id: Mapped[int | None] = mapped_column(Integer, default=None)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("cbt_item_versions.id"), index=True)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    option_order: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CbtEvent(Base):
    """A CBT event as the SOP runs it: proposed by a unit, prepared with Kabag. WDM, held.

    ``state`` follows the ``cbt_event`` workflow (``plugins.cbt.events.EVENT``); the
    preparation checklist is the four fields after ``letter_number``.
    """

    __tablename__ = "cbt_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    expected_candidates: Mapped[int] = mapped_column(Integer, default=0)
    material: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    letter_number: Mapped[str] = mapped_column(String(200), default="")
    minutes_number: Mapped[str] = mapped_column(String(200), default="")
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("cbt_exams.id"), default=None)
    material_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    devices_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    running_order: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CbtSession(Base):
    """One sitting of an event's exam: a lab for a time span, its proctors and seated candidates."""

    __tablename__ = "cbt_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("cbt_events.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("cbt_exams.id"), index=True)
    lab_id: Mapped[int] = mapped_column(Integer)
    lab_label: Mapped[str] = mapped_column(String(160), default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    reservation: Mapped[str] = mapped_column(String(200), default="")
    proctor_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS: list[type] = [
    DataKey, Bank, Category, Tag, Item, ItemTag, ItemVersion, Asset, Exam, ExamSection, ExamSlot,
    Candidate, Attempt, AttemptItem, CbtEvent, CbtSession, *MARKING_MODELS,
]
