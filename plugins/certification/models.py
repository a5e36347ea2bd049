"""Tables of the certification plugin.

A programme (the proposal BPTI sends to WR II) has fields (networking, databases...), each
with a quota of seats, sessions (training and exam, each in a lab reserved through the
core), and registrations of participants, internal (an account) or external (a verified
e-mail address). Delivery adds attendance per session, one result per registration and
at most one certificate per registration.

No overbooking is enforced by the database, not only by Python:

* ``cert_fields.seats_held`` counts the registrations that hold a seat (confirmed, or
  offered to the waiting list) and a CHECK keeps it between 0 and ``quota``. A seat is
  taken with one conditional ``UPDATE ... SET seats_held = seats_held + 1 WHERE
  seats_held < quota``: on PostgreSQL the row lock makes a concurrent claim wait and
  re-read the counter, on SQLite the write lock serialises writers.
* Every seat-holding registration carries a seat number, unique per field, and a CHECK
  ties "holds a seat" to "has a seat number"; so the seats handed out can be counted
  from the registrations themselves and can never be more than the counter allows.
* A partial unique index forbids two active registrations of one participant for one
  field (a double click, two tabs, a replayed request).

User ids and lab ids are stored without foreign keys, as the core does, so this branch
depends on no other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.certificates.models import RegisteredCertificate
from core.db import Base, utcnow


class ProgrammeState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # with WR II
    RETURNED = "returned"  # WR II sent it back with comments
    APPROVED = "approved"  # preparation with the vendor
    PUBLISHED = "published"  # on the portal; registration by its window
    RUNNING = "running"  # training and exams under way
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Audience(StrEnum):
    ALL = "all"
    INTERNAL = "internal"  # members of the university (an account)
    EXTERNAL = "external"  # outsiders only


class RegStatus(StrEnum):
    CONFIRMED = "confirmed"  # holds a seat
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat is held for them until offer_expires_at
    CANCELLED = "cancelled"
    OFFER_EXPIRED = "offer_expired"
    OFFER_DECLINED = "offer_declined"


HOLDING = (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value)
ACTIVE = (*HOLDING, RegStatus.WAITLISTED.value)


class PaymentStatus(StrEnum):
    NONE = "none"  # no fee
    UNPAID = "unpaid"
    PARTIAL = "partial"
    PAID = "paid"
    WAIVED = "waived"
    REFUNDED = "refunded"


class SessionKind(StrEnum):
    TRAINING = "training"
    EXAM = "exam"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class CertVendor(Base):
    """A third party that prepares and delivers certifications (a vendor, an LSP, a trainer)."""

    __tablename__ = "cert_vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="vendor")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    offerings: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, default=None)


class CertDocument(Base):
    """A document exchanged with a vendor: an offer, an agreement, an invoice, material."""

    __tablename__ = "cert_vendor_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("cert_vendors.id", ondelete="CASCADE"),
                                           index=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("cert_programmes.id", ondelete="SET NULL"), default=None, index=True)
    title: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(10), default="received")  # or "sent"
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by: Mapped[int | None] = mapped_column(Integer, default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertProgramme(Base):
    """A certification programme: the proposal to WR II, and then the event itself."""

    __tablename__ = "cert_programmes"
    __table_args__ = (
        CheckConstraint("offer_hours >= 1 AND offer_hours <= 336", name="offer_hours"),
        CheckConstraint("min_attendance >= 0 AND min_attendance <= 100", name="min_attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=ProgrammeState.DRAFT.value, index=True)
    vendor_id: Mapped[int | None] = mapped_column(
        ForeignKey("cert_vendors.id", ondelete="SET NULL"), default=None)
    letter_number: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    registration_opens_at: Mapped[datetime | None] = mapped_column(default=None)
    registration_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_until: Mapped[datetime | None] = mapped_column(default=None)
    offer_hours: Mapped[int] = mapped_column(Integer, default=24)
    one_field_only: Mapped[bool] = mapped_column(Boolean, default=False)
    min_attendance: Mapped[int] = mapped_column(Integer, default=75)
    validity_months: Mapped[int | None] = mapped_column(Integer, default=None)
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="Kepala BPTI")
    created_by: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    fields: Mapped[list[CertField]] = relationship(
        back_populates="programme", order_by="CertField.sort, CertField.id",
        cascade="all, delete-orphan")
    costs: Mapped[list[CertCost]] = relationship(
        order_by="CertCost.id", cascade="all, delete-orphan")


class CertCost(Base):
    """One line of a proposal's budget."""

    __tablename__ = "cert_cost_lines"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("cert_programmes.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Integer)  # rupiah
    funded_by: Mapped[str] = mapped_column(String(20), default="university")


class CertField(Base):
    """A certification field of a programme, with its quota of seats."""

    __tablename__ = "cert_fields"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint("quota >= 0", name="quota"),
        # The last guard against overbooking: see the module's docstring.
        CheckConstraint("seats_held >= 0 AND seats_held <= quota", name="seats_within_quota"),
        CheckConstraint("fee >= 0", name="fee"),
        CheckConstraint(f"audience IN {_in(tuple(a.value for a in Audience))}",
                        name="audience"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("cert_programmes.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    quota: Mapped[int] = mapped_column(Integer, default=0)
    seats_held: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    fee: Mapped[int] = mapped_column(Integer, default=0)  # rupiah; 0 is free
    audience: Mapped[str] = mapped_column(String(10), default=Audience.ALL.value)
    study_programmes: Mapped[list[str]] = mapped_column(JSON, default=list)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    exam_ref: Mapped[str] = mapped_column(String(120), default="")
    pass_mark: Mapped[float | None] = mapped_column(Float, default=None)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    programme: Mapped[CertProgramme] = relationship(back_populates="fields")
    sessions: Mapped[list[CertSession]] = relationship(
        back_populates="field", order_by="CertSession.starts_at", cascade="all, delete-orphan")

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.seats_held)


class CertSession(Base):
    """A training day or the exam of a field, in a lab (reserved) or elsewhere."""

    __tablename__ = "cert_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="span"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("cert_fields.id", ondelete="CASCADE"),
                                          index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=SessionKind.TRAINING.value)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    lab_id: Mapped[int | None] = mapped_column(Integer, default=None)
    location: Mapped[str] = mapped_column(String(200), default="")
    reservation_ref: Mapped[str] = mapped_column(String(120), default="")
    trainer: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(Integer, default=None)

    field: Mapped[CertField] = relationship(back_populates="sessions")


class CertParticipant(Base):
    """Someone who registers: a member of the university (``user_id``) or an outsider."""

    __tablename__ = "cert_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    study_programme: Mapped[str] = mapped_column(String(200), default="")
    id_number: Mapped[str] = mapped_column(String(40), default="")  # NIM, NIP or NIK
    locale: Mapped[str | None] = mapped_column(String(5), default=None)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def internal(self) -> bool:
        return self.user_id is not None


class CertToken(Base):
    """A one-time link mailed to a participant: it proves the address and signs them in."""

    __tablename__ = "cert_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("cert_participants.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    next_path: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class CertRegistration(Base):
    """One participant's place (or place in the queue) in one field."""

    __tablename__ = "cert_registrations"
    __table_args__ = (
        UniqueConstraint("field_id", "seat_no"),
        CheckConstraint("seat_no IS NULL OR seat_no >= 1", name="seat_no"),
        CheckConstraint(
            f"(status IN {_in(HOLDING)} AND seat_no IS NOT NULL) OR "
            f"(status NOT IN {_in(HOLDING)} AND seat_no IS NULL)", name="seat_iff_holding"),
        CheckConstraint(f"status IN {_in(tuple(s.value for s in RegStatus))}", name="status"),
        CheckConstraint(f"payment_status IN {_in(tuple(p.value for p in PaymentStatus))}",
                        name="payment_status"),
        Index("uq_cert_registrations_active", "field_id", "participant_id", unique=True,
              sqlite_where=text(f"status IN {_in(ACTIVE)}"),
              postgresql_where=text(f"status IN {_in(ACTIVE)}")),
        Index("ix_cert_registrations_queue", "field_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("cert_fields.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("cert_participants.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    seat_no: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    offered_at: Mapped[datetime | None] = mapped_column(default=None)
    offer_expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    ended_by: Mapped[int | None] = mapped_column(Integer, default=None)
    fee: Mapped[int] = mapped_column(Integer, default=0)
    payment_status: Mapped[str] = mapped_column(String(10), default=PaymentStatus.NONE.value)
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(10), default="portal")  # or "staff"

    field: Mapped[CertField] = relationship()
    participant: Mapped[CertParticipant] = relationship()

    @property
    def holds_seat(self) -> bool:
        return self.status in HOLDING


class CertPayment(Base):
    """A payment (or, negative, a refund) recorded by staff; no gateway is involved."""

    __tablename__ = "cert_payments"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("cert_registrations.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40), default="transfer")
    reference: Mapped[str] = mapped_column(String(120), default="")
    paid_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(Integer, default=None)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertAttendance(Base):
    """Whether a registered participant was at one session."""

    __tablename__ = "cert_attendance"
    __table_args__ = (UniqueConstraint("session_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cert_sessions.id", ondelete="CASCADE"),
                                            index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("cert_registrations.id", ondelete="CASCADE"), index=True)
    present: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")
    marked_by: Mapped[int | None] = mapped_column(Integer, default=None)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertResult(Base):
    """The outcome of a registration's certification test: entered by staff or from CBT."""

    __tablename__ = "cert_results"
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)",
                                      name="score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("cert_registrations.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(10), default="staff")  # or "cbt"
    exam_ref: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    entered_by: Mapped[int | None] = mapped_column(Integer, default=None)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(RegisteredCertificate, Base):
    """A certificate issued to a registration; what it says is kept as it was printed.

    Its code, revocation and public check live in the core's register (``issued``)."""

    __tablename__ = "cert_certificates"
    certificate_owner = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("cert_registrations.id", ondelete="RESTRICT"), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    programme_title: Mapped[str] = mapped_column(String(200))
    field_name: Mapped[str] = mapped_column(String(200))
    vendor_name: Mapped[str] = mapped_column(String(200), default="")
    score: Mapped[float | None] = mapped_column(Float, default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(Integer, default=None)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)


MODELS: list[type] = [CertVendor, CertDocument, CertProgramme, CertCost, CertField,
                      CertSession, CertParticipant, CertToken, CertRegistration, CertPayment,
                      CertAttendance, CertResult, Certificate]
