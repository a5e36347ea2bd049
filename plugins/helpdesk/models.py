"""Tables of the helpdesk: tickets, their messages and files, categories, service levels.

User, lab, seat and PC ids are stored without foreign keys, as the core does, so this
plugin's migrations depend on no other branch; the service checks them when they are set.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Channel(StrEnum):
    """How a complaint reached BPTI. The portal is the SOP's main channel."""

    PORTAL = "portal"
    WALK_IN = "walk_in"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    LETTER = "letter"
    EMAIL = "email"
    SYSTEM = "system"  # filed by another plugin (a PC that broke during an exam)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class MessageKind(StrEnum):
    PUBLIC = "public"  # the requester sees it and gets it by e-mail
    INTERNAL = "internal"  # staff only
    SYSTEM = "system"  # written by the software (merged, escalated...), staff only


class Category(Base):
    """What a complaint is about; ``division`` pre-routes it, ``auto_forward`` skips triage."""

    __tablename__ = "helpdesk_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    division: Mapped[str | None] = mapped_column(String(10), default=None)
    auto_forward: Mapped[bool] = mapped_column(Boolean, default=False)
    default_priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class Ticket(Base):
    """One complaint, from filing to closing, under its ticket number (nomor tiket).

    ``created_by`` is the account of the person who complains (empty for a guest), so the
    workflow's ``owner`` role is the requester; ``entered_by`` is the staff member who typed
    it in for them. Service-level times are absolute moments, computed in business hours
    when the ticket is filed and moved on when the clock pauses (waiting on the user).
    """

    __tablename__ = "helpdesk_tickets"
    __table_args__ = (
        Index("ix_helpdesk_tickets_division_state", "division", "state"),
        Index("ix_helpdesk_tickets_state_created", "state", "created_at"),
        Index("ix_helpdesk_tickets_assignee_state", "assignee_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL.value)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.PORTAL.value)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_categories.id", ondelete="SET NULL"), default=None, index=True)
    division: Mapped[str | None] = mapped_column(String(10), default=None)
    assignee_id: Mapped[int | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(default=None, index=True)
    entered_by: Mapped[int | None] = mapped_column(default=None)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    requester_phone: Mapped[str] = mapped_column(String(40), default="", index=True)
    requester_unit: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(5), default="id")
    lab_id: Mapped[int | None] = mapped_column(default=None, index=True)
    seat_id: Mapped[int | None] = mapped_column(default=None)
    device_id: Mapped[int | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(40), default="")
    source_ref: Mapped[str] = mapped_column(String(100), default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_tickets.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_due: Mapped[datetime | None] = mapped_column(default=None)
    resolution_due: Mapped[datetime | None] = mapped_column(default=None)
    first_responded_at: Mapped[datetime | None] = mapped_column(default=None)
    forwarded_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_open(self) -> bool:
        return self.state not in ("resolved", "closed")

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.state}>"


class TicketMessage(Base):
    """A public reply, an internal note, or a line the software writes on a ticket."""

    __tablename__ = "helpdesk_messages"
    __table_args__ = (Index("ix_helpdesk_messages_ticket_at", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=MessageKind.PUBLIC.value)
    author_id: Mapped[int | None] = mapped_column(default=None)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    from_requester: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    # System lines are shown in the reader's language: ``event`` picks the sentence and
    # ``params`` fills it; ``body`` keeps an English copy for search and export.
    event: Mapped[str] = mapped_column(String(40), default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def public(self) -> bool:
        return self.kind == MessageKind.PUBLIC


class Attachment(Base):
    """A file sent with a ticket or a message, stored under a random name."""

    __tablename__ = "helpdesk_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_messages.id", ondelete="SET NULL"), default=None)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(120), unique=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follower(Base):
    """Someone besides the requester who is told about a ticket (a merged duplicate's)."""

    __tablename__ = "helpdesk_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="", index=True)
    user_id: Mapped[int | None] = mapped_column(default=None, index=True)
    locale: Mapped[str] = mapped_column(String(5), default="id")
    from_ticket_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A reply staff insert instead of typing it again; ``division`` narrows who sees it."""

    __tablename__ = "helpdesk_canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    division: Mapped[str | None] = mapped_column(String(10), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicy(Base):
    """Targets in business minutes for one priority, of one category or (empty) of all."""

    __tablename__ = "helpdesk_sla_policies"
    __table_args__ = (UniqueConstraint("category_key", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_categories.id", ondelete="CASCADE"), default=None)
    # 0 for the default row: NULLs are never equal, so they cannot be unique.
    category_key: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[str] = mapped_column(String(10))
    first_response_min: Mapped[int] = mapped_column(Integer)
    resolution_min: Mapped[int] = mapped_column(Integer)


class Holiday(Base):
    """A day without business hours (national holidays, campus closures)."""

    __tablename__ = "helpdesk_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Throttle(Base):
    """A counted attempt (a wrong status look-up, a guest's filing), kept for throttling."""

    __tablename__ = "helpdesk_throttle"
    __table_args__ = (Index("ix_helpdesk_throttle_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchTerm(Base):
    """One word of a ticket, for search that stays fast on 100,000 tickets on any database."""

    __tablename__ = "helpdesk_search_terms"

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"), primary_key=True, index=True)


MODELS: list[type] = [Category, Ticket, TicketMessage, Attachment, Follower, CannedReply,
                      SlaPolicy, Holiday, Throttle, SearchTerm]
