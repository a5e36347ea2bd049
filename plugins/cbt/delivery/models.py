"""Tables of exam delivery: attempts as kiosks take them, the answer log, tokens, sign-ins.

:class:`DeliveryAttempt` extends the authoring side's :class:`~plugins.cbt.models.Attempt`
(one row each) with what delivery needs: the per-attempt paper key (sealed under the exam's
data key, like all exam content at rest), the encrypted paper as kiosks download it, the
server's clock (``started_at``, ``deadline_at``), and which kiosk the candidate is signed in
on (``kiosk_id``, ``login_hash``).

:class:`Answer` is an append-only log: one small row per change a kiosk sends, unique by
``(attempt_id, seq)``, so a re-sent change is a no-op and the latest ``seq`` per item is the
candidate's answer. Nothing else is written on the answer path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

__all__ = [
    "MODELS",
    "Answer",
    "DeliveryAttempt",
    "Incident",
    "IntegrityEvent",
    "LabPolicy",
    "SessionStart",
    "SessionToken",
    "SignIn",
]


class DeliveryAttempt(Base):
    """An attempt on its way through a kiosk: staged, running, submitted."""

    __tablename__ = "cbt_delivery_attempts"
    __table_args__ = (Index("ix_cbt_delivery_attempts_due", "state", "deadline_at"),)

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_attempts.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("cbt_sessions.id"), index=True, default=None)
    candidate_id: Mapped[int] = mapped_column(Integer, index=True)
    # ready (paper staged, waiting for the start) | running | submitted
    state: Mapped[str] = mapped_column(String(12), default="ready")
    paper_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # Deferred: tens of kilobytes that only the paper download reads, while every heartbeat,
    # reconnect and seat-map refresh loads the row (profiled at a fifth of the server's time
    # under 2,000 kiosks when it was loaded with the row).
    paper_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # What each item accepts as an answer (types and counts, nothing that scores).
    shape: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duration_s: Mapped[int] = mapped_column(Integer)
    extra_s: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    started_by: Mapped[str] = mapped_column(String(20), default="")  # proctor | token
    deadline_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_by: Mapped[str] = mapped_column(String(20), default="")  # candidate|deadline|proctor
    kiosk_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    login_hash: Mapped[str] = mapped_column(String(64), default="")
    signed_in_at: Mapped[datetime | None] = mapped_column(default=None)
    resets: Mapped[int] = mapped_column(Integer, default=0)
    # The proctor's hold on the attempt: paused (state ``paused``, the clock stopped at
    # ``paused_at``; ``paused_s`` is the time all earlier pauses took, added to the
    # deadline), locked (answers refused, the clock runs on), admission of a late start.
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    paused_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    admission: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # Whether a kiosk socket of the attempt is connected (written on connect/disconnect;
    # the seat map also weighs the kiosk's last heartbeat, for a server that died).
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Answer(Base):
    """One change of one item, as the kiosk sent it (option numbers in the kiosk's order)."""

    __tablename__ = "cbt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("cbt_attempts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionStart(Base):
    """When and by whom a session was started for every candidate waiting in it."""

    __tablename__ = "cbt_session_starts"

    session_id: Mapped[int] = mapped_column(ForeignKey("cbt_sessions.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by: Mapped[int | None] = mapped_column(default=None)


class SessionToken(Base):
    """The token of a session for one 15-minute window; one row per window, made once."""

    __tablename__ = "cbt_session_tokens"
    __table_args__ = (UniqueConstraint("session_id", "window_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cbt_sessions.id", ondelete="CASCADE"))
    window_no: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignIn(Base):
    """A candidate's sign-in at a kiosk, accepted or not (wrong ones throttle the kiosk)."""

    __tablename__ = "cbt_kiosk_signins"
    __table_args__ = (Index("ix_cbt_kiosk_signins_kiosk_at", "kiosk_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(Integer)
    participant_number: Mapped[str] = mapped_column(String(40), default="")
    candidate_id: Mapped[int | None] = mapped_column(Integer, default=None)
    attempt_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(40), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrityEvent(Base):
    """Something a proctor should know: focus lost, full screen left, a reload, copy/paste.

    Repeats of one kind within a few seconds are folded into one row (``count``), so a
    kiosk cannot flood the table.
    """

    __tablename__ = "cbt_integrity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_attempts.id", ondelete="CASCADE"), index=True)
    kiosk_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LabPolicy(Base):
    """How a lab's kiosks must run exams: whether Safe Exam Browser is required, and the
    Config Keys (hex SHA-256, as SEB shows them) of the SEB configurations allowed there."""

    __tablename__ = "cbt_lab_policies"

    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"),
                                        primary_key=True)
    seb_required: Mapped[bool] = mapped_column(Boolean, default=False)
    seb_config_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(default=None)


class Incident(Base):
    """Something that happened in an exam room, written down by a proctor for the minutes."""

    __tablename__ = "cbt_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("cbt_sessions.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # technical | conduct | health | late | other (see plugins.cbt.delivery.proctor)
    category: Mapped[str] = mapped_column(String(20), default="other")
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    by_name: Mapped[str] = mapped_column(String(200), default="")


MODELS: list[type] = [DeliveryAttempt, Answer, SessionStart, SessionToken, SignIn,
                      IntegrityEvent, LabPolicy, Incident]
