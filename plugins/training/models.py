"""Tables of the training plugin (Diklat): trainings, their people, checks and records.

User and lab ids are stored without foreign keys, as the core and the other plugins do, so
this plugin's migrations depend on no other branch; the services check them when they
are set. What a certificate or a report says is copied when it is issued, so a record
reads the same for ever even when the training is edited later.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.certificates.models import RegisteredCertificate
from core.db import Base, utcnow


class Audience(StrEnum):
    STAFF = "staff"  # BPTI and university staff (tendik, dosen)
    STUDENTS = "students"
    MIXED = "mixed"


class ParticipantKind(StrEnum):
    STAFF = "staff"
    STUDENT = "student"


class ParticipantStatus(StrEnum):
    INVITED = "invited"  # asked, not answered yet
    REGISTERED = "registered"  # holds a seat
    WAITLISTED = "waitlisted"  # the training was full; moves up when a seat frees
    CANCELLED = "cancelled"  # withdrew, or declined the invitation


class CheckMode(StrEnum):
    NONE = "none"
    QUIZ = "quiz"  # the built-in quiz: the same questions before and after
    EXTERNAL = "external"  # an exam of another plugin (CBT), through ruang_assessments


class FileKind(StrEnum):
    MATERIAL = "material"  # slides, handouts: participants may download them
    PHOTO = "photo"  # documentation of the event
    DOCUMENT = "document"  # attendance sheets, minutes, invoices of the third party


class Trainer(Base):
    """A trainer or training vendor BPTI works with, offered to other plugins as a third
    party through ``ruang_third_parties``."""

    __tablename__ = "training_trainers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    expertise: Mapped[str] = mapped_column(Text, default="")
    external: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(default=None)


class Training(Base):
    """One themed training, from the proposal BPTI drafts to the documented event.

    ``created_by`` drafts the proposal (the workflow's owner). The numbers come from the
    records service: ``letter_number`` when Ka. BPTI approves, ``report_number`` when the
    training is documented. ``room_reference`` is the lab reservation's reference.
    """

    __tablename__ = "training_trainings"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("budget >= 0", name="budget_not_negative"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_training_trainings_state_start", "state", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(10), default=Audience.MIXED.value)
    audience_notes: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    venue: Mapped[str] = mapped_column(String(200), default="")
    lab_id: Mapped[int | None] = mapped_column(default=None, index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=30)
    budget: Mapped[int] = mapped_column(Integer, default=0)  # rupiah
    budget_notes: Mapped[str] = mapped_column(Text, default="")
    third_party_ref: Mapped[str] = mapped_column(String(100), default="")
    third_party_name: Mapped[str] = mapped_column(String(200), default="")
    third_party_contact: Mapped[str] = mapped_column(String(300), default="")
    third_party_status: Mapped[str] = mapped_column(String(20), default="")
    division: Mapped[str | None] = mapped_column(String(10), default=None)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False)
    check_mode: Mapped[str] = mapped_column(String(10), default=CheckMode.QUIZ.value)
    pre_ref: Mapped[str] = mapped_column(String(100), default="")  # external pre-test
    post_ref: Mapped[str] = mapped_column(String(100), default="")  # external post-test
    letter_number: Mapped[str | None] = mapped_column(String(80), default=None, unique=True)
    letter_at: Mapped[datetime | None] = mapped_column(default=None)
    report_number: Mapped[str | None] = mapped_column(String(80), default=None, unique=True)
    report_at: Mapped[datetime | None] = mapped_column(default=None)
    report_file: Mapped[str] = mapped_column(String(80), default="")
    room_reference: Mapped[str] = mapped_column(String(120), default="")
    room_notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    trainers: Mapped[list[TrainingTrainer]] = relationship(
        back_populates="training", cascade="all, delete-orphan",
        order_by="TrainingTrainer.position", lazy="selectin")
    checklist: Mapped[list[ChecklistItem]] = relationship(
        back_populates="training", cascade="all, delete-orphan",
        order_by="ChecklistItem.position", lazy="selectin")

    @property
    def code(self) -> str:
        """A short name for lists and e-mails, e.g. ``DKL-0007``."""
        return f"DKL-{self.id:04d}" if self.id else "DKL-?"

    def __repr__(self) -> str:
        return f"<Training {self.code} {self.state}>"


class TrainingTrainer(Base):
    """Who teaches a training: a BPTI staff member, a trainer of the directory, or a
    third party another plugin knows (its ``ref``); the name is kept as it was chosen."""

    __tablename__ = "training_training_trainers"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(80), default="")
    ref: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    training: Mapped[Training] = relationship(back_populates="trainers")


class ChecklistItem(Base):
    __tablename__ = "training_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[int | None] = mapped_column(default=None)
    done_by_name: Mapped[str] = mapped_column(String(200), default="")
    done_at: Mapped[datetime | None] = mapped_column(default=None)

    training: Mapped[Training] = relationship(back_populates="checklist")


class Participant(Base):
    """A person invited to or registered for a training: internal staff or a student.

    ``user_id`` links an account when there is one; people without an account reach
    their page (QR code, tests, feedback, certificate) through a signed link.
    ``identifier`` is the NIP or NIM, by which an external exam's scores are matched.
    """

    __tablename__ = "training_participants"
    __table_args__ = (
        UniqueConstraint("training_id", "email", name="email_once"),
        Index("ix_training_participants_training_status", "training_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(default=None, index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(10), default=ParticipantKind.STAFF.value)
    identifier: Mapped[str] = mapped_column(String(40), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default=ParticipantStatus.INVITED.value)
    invited_at: Mapped[datetime | None] = mapped_column(default=None)
    registered_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_by: Mapped[int | None] = mapped_column(default=None)
    checkin_method: Mapped[str] = mapped_column(String(10), default="")
    pre_score: Mapped[float | None] = mapped_column(Float, default=None)  # percent
    post_score: Mapped[float | None] = mapped_column(Float, default=None)  # percent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def attended(self) -> bool:
        return self.checked_in_at is not None


class SupervisionNote(Base):
    """What a supervisor saw during the event (pengawasan): progress, problems, actions."""

    __tablename__ = "training_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20), default="observation")
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(default=None)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Question(Base):
    """A question of the built-in knowledge check: one correct option among two to six.

    The same questions serve the pre-test and the post-test, so the two scores compare.
    """

    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    correct: Mapped[int] = mapped_column(Integer)


class QuizAttempt(Base):
    """A participant's answers to the knowledge check, once before and once after."""

    __tablename__ = "training_quiz_attempts"
    __table_args__ = (UniqueConstraint("participant_id", "phase", name="once_per_phase"),
                      CheckConstraint("phase in ('pre', 'post')", name="phase_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("training_participants.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(4))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """A participant's evaluation of the training: ratings from 1 to 5 and comments."""

    __tablename__ = "training_feedback"
    __table_args__ = tuple(
        CheckConstraint(f"{name} between 1 and 5", name=f"{name}_range")
        for name in ("content", "trainer", "materials", "facilities", "usefulness", "overall")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("training_participants.id", ondelete="CASCADE"), unique=True)
    content: Mapped[int] = mapped_column(Integer)
    trainer: Mapped[int] = mapped_column(Integer)
    materials: Mapped[int] = mapped_column(Integer)
    facilities: Mapped[int] = mapped_column(Integer)
    usefulness: Mapped[int] = mapped_column(Integer)
    overall: Mapped[int] = mapped_column(Integer)
    liked: Mapped[str] = mapped_column(Text, default="")
    improve: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingFile(Base):
    """A file of a training: material for participants, a photo or a document of the event.

    Stored under ``<instance>/uploads/training/`` with a random name and no extension; the
    table keeps the original name, the type found in the content, the size and a SHA-256.
    """

    __tablename__ = "training_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by: Mapped[int | None] = mapped_column(default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(RegisteredCertificate, Base):
    """A certificate of attendance, numbered by the records service; its code, revocation
    and public check live in the core's register (``issued``)."""

    __tablename__ = "training_certificates"
    certificate_owner = "training"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("training_participants.id", ondelete="CASCADE"), unique=True)
    training_id: Mapped[int] = mapped_column(
        ForeignKey("training_trainings.id", ondelete="CASCADE"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    training_title: Mapped[str] = mapped_column(String(200))
    training_theme: Mapped[str] = mapped_column(String(120), default="")
    held_on: Mapped[str] = mapped_column(String(60), default="")
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(default=None)


MODELS: list[type] = [Trainer, Training, TrainingTrainer, ChecklistItem, Participant,
                      SupervisionNote, Question, QuizAttempt, Feedback, TrainingFile,
                      Certificate]
