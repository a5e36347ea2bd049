"""Tables of the lab plugin: booking requests, their weekly occurrences, the holds that keep
a lab for one party at a time, preparation checklists, repairs sent to Biro Aset, and the
usage log of live lab sessions.

The physical registry (labs, seats, PCs, kiosks) is the core's (``core.rooms``); rows here
point at it. User ids are stored without a foreign key, like the core does, so this
branch depends only on the rooms branch.

No double booking is enforced by :class:`Hold`, not by Python: on PostgreSQL an exclusion
constraint forbids two holds of one lab whose ``[starts_at, ends_at)`` ranges overlap, on
SQLite triggers refuse such an insert or update. Both live in this plugin's migration.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow


class RequestState(StrEnum):
    SUBMITTED = "submitted"  # waiting for Ka. BPTI
    APPROVED = "approved"  # Ka. BPTI approved; the lab is held
    DELEGATED = "delegated"  # with Kabag. YANSI
    PREPARING = "preparing"  # staff work through the checklist
    READY = "ready"  # the lab is prepared
    IN_USE = "in_use"  # checked in
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


#: States in which a request's occurrences hold the lab.
HOLDING_STATES = frozenset({
    RequestState.APPROVED, RequestState.DELEGATED, RequestState.PREPARING,
    RequestState.READY, RequestState.IN_USE,
})
OPEN_STATES = frozenset({RequestState.SUBMITTED, *HOLDING_STATES})


class OccurrenceStatus(StrEnum):
    REQUESTED = "requested"  # part of a request not decided yet
    CONFLICT = "conflict"  # left out: the lab was taken when it was asked or approved
    BOOKED = "booked"  # approved; holds the lab
    CHECKED_IN = "checked_in"
    DONE = "done"  # checked out
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    PORTAL = "portal"  # typed by the requester
    LETTER = "letter"  # a letter to Ka. BPTI, entered by staff


class LabProfile(Base):
    """What the lab plugin adds to a core lab: its description and its booking rules."""

    __tablename__ = "lab_profiles"

    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"),
                                        primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Whether requesters see this lab on the portal (a server room is not lent out).
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    open_from: Mapped[time] = mapped_column(Time, default=time(7, 0))
    open_until: Mapped[time] = mapped_column(Time, default=time(21, 0))
    # ISO weekdays the lab is served, "1234567"-style (Monday is 1).
    open_days: Mapped[str] = mapped_column(String(7), default="123456")
    # Random part of the lab's iCal feed address; changing it revokes old subscriptions.
    feed_key: Mapped[str] = mapped_column(String(40), default="")


class Equipment(Base):
    """Something in a lab besides the PCs: a projector, an air conditioner, a whiteboard."""

    __tablename__ = "lab_equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    asset_number: Mapped[str] = mapped_column(String(60), default="")
    condition: Mapped[str] = mapped_column(String(20), default="good")
    notes: Mapped[str] = mapped_column(Text, default="")


class Software(Base):
    """A program installed on a lab's PCs."""

    __tablename__ = "lab_software"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(40), default="")
    licence: Mapped[str] = mapped_column(String(80), default="")


class LabRequest(Base):
    """A request to use a lab, from the portal or from a letter, and its way through the SOP."""

    __tablename__ = "lab_requests"
    __table_args__ = (
        CheckConstraint("participants > 0", name="participants_positive"),
        Index("ix_lab_requests_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=RequestState.SUBMITTED.value)
    channel: Mapped[str] = mapped_column(String(10), default=Channel.PORTAL.value)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(default=None, index=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_unit: Mapped[str] = mapped_column(String(200), default="")
    requester_email: Mapped[str] = mapped_column(String(254), default="")
    requester_phone: Mapped[str] = mapped_column(String(40), default="")
    purpose: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[int] = mapped_column(Integer)
    software_needed: Mapped[str] = mapped_column(Text, default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    letter_number: Mapped[str] = mapped_column(String(100), default="")
    letter_date: Mapped[date | None] = mapped_column(Date, default=None)
    letter_file: Mapped[str] = mapped_column(String(255), default="")
    coordinator_id: Mapped[int | None] = mapped_column(default=None)  # Kabag. YANSI
    assignee_id: Mapped[int | None] = mapped_column(default=None)  # staff preparing
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Classes, not names: every plugin shares one registry, and another plugin may well
    # have a "PreparationItem" of its own.
    occurrences: Mapped[list[Occurrence]] = relationship(
        lambda: Occurrence, back_populates="request",
        order_by=lambda: Occurrence.starts_at, cascade="all, delete-orphan"
    )
    checklist: Mapped[list[PreparationItem]] = relationship(
        lambda: PreparationItem, back_populates="request",
        order_by=lambda: PreparationItem.position, cascade="all, delete-orphan"
    )

    @property
    def software_list(self) -> list[str]:
        parts = self.software_needed.replace(";", "\n").replace(",", "\n").splitlines()
        return [p.strip() for p in parts if p.strip()]

    def __repr__(self) -> str:
        return f"<LabRequest {self.number} {self.state}>"


class Occurrence(Base):
    """One session of a request: the single date, or one week of a weekly series."""

    __tablename__ = "lab_occurrences"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="span_positive"),
        Index("ix_lab_occurrences_lab_start", "lab_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("lab_requests.id", ondelete="CASCADE"),
                                            index=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=OccurrenceStatus.REQUESTED.value)
    note: Mapped[str] = mapped_column(String(300), default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_by: Mapped[int | None] = mapped_column(default=None)
    checked_out_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_out_by: Mapped[int | None] = mapped_column(default=None)
    attendees: Mapped[int | None] = mapped_column(Integer, default=None)
    condition_note: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)

    request: Mapped[LabRequest] = relationship(lambda: LabRequest, back_populates="occurrences")

    @property
    def active(self) -> bool:
        """Still part of the booking (not left out, cancelled or missed)."""
        return self.status in (OccurrenceStatus.REQUESTED, OccurrenceStatus.BOOKED,
                               OccurrenceStatus.CHECKED_IN, OccurrenceStatus.DONE)


class HoldKind(StrEnum):
    BOOKING = "booking"  # an approved occurrence of a lab request
    RESERVATION = "reservation"  # another plugin's, through ruang_reserve_room
    BLOCK = "block"  # staff closed the lab (maintenance, installation day)


class Hold(Base):
    """The lab is taken for ``[starts_at, ends_at)``. Two holds of one lab never overlap:
    the database refuses it (see the module docstring)."""

    __tablename__ = "lab_holds"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="span_positive"),
        Index("ix_lab_holds_lab_span", "lab_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("lab_occurrences.id", ondelete="CASCADE"), unique=True, default=None
    )
    source: Mapped[str] = mapped_column(String(40), default="lab")
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    seats: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PreparationItem(Base):
    """One preparation task of a request, assigned to a staff member."""

    __tablename__ = "lab_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("lab_requests.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(default=None)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[int | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(300), default="")

    request: Mapped[LabRequest] = relationship(lambda: LabRequest, back_populates="checklist")


class RepairState(StrEnum):
    REPORTED = "reported"  # marked faulty, not yet sent
    SENT = "sent"  # the request went to Biro Aset
    IN_REPAIR = "in_repair"  # Biro Aset has the PC
    DONE = "done"
    CANCELLED = "cancelled"  # a false alarm


OPEN_REPAIR_STATES = frozenset({RepairState.REPORTED, RepairState.SENT, RepairState.IN_REPAIR})


class Repair(Base):
    """A repair or replacement of a PC, requested from Biro Aset and tracked to done."""

    __tablename__ = "lab_repairs"
    __table_args__ = (Index("ix_lab_repairs_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=RepairState.REPORTED.value)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id"), default=None)
    seat_label: Mapped[str] = mapped_column(String(10), default="")
    asset_number: Mapped[str] = mapped_column(String(60))
    hostname: Mapped[str] = mapped_column(String(100), default="")
    problem: Mapped[str] = mapped_column(Text)
    # Where the fault was reported: lab_page, seat (QR sticker / kiosk), helpdesk, checkout,
    # registry (marked faulty elsewhere and picked up by the lab plugin).
    source: Mapped[str] = mapped_column(String(20), default="lab_page")
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    replace: Mapped[bool] = mapped_column(Boolean, default=False)
    asset_office_ref: Mapped[str] = mapped_column(String(100), default="")  # Biro Aset's number
    resolution: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[int | None] = mapped_column(default=None)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class UsageKind(StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    NO_SHOW = "no_show"
    SEAT_TAKEN = "seat_taken"
    SEAT_FREED = "seat_freed"
    FAULT = "fault"
    NOTE = "note"


class UsageEntry(Base):
    """The usage log: what happened in a lab and when, for monitoring and the reports."""

    __tablename__ = "lab_usage"
    __table_args__ = (Index("ix_lab_usage_lab_at", "lab_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"))
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("lab_occurrences.id", ondelete="SET NULL"), default=None, index=True
    )
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id", ondelete="SET NULL"),
                                                default=None)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    occupant: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SeatUse(Base):
    """A seat taken during a live session, by whom, until it is freed (``ended_at``)."""

    __tablename__ = "lab_seat_uses"
    __table_args__ = (Index("ix_lab_seat_uses_open", "seat_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("lab_occurrences.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id", ondelete="CASCADE"))
    occupant: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


MODELS: list[type[Base]] = [
    LabProfile, Equipment, Software, LabRequest, Occurrence, Hold, PreparationItem, Repair,
    UsageEntry, SeatUse,
]
