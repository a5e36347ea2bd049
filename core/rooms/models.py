"""Tables of the physical registry: labs, their seats, the PC at each seat, enrolled kiosks.

Every procedure shares these: the CBT plugin seats candidates on them, the lab plugin books
them, training and certification reserve them. User ids (``created_by``, ``enrolled_by``...)
are stored without a foreign key, as the rest of the core does, so this area's migrations
do not depend on the accounts branch.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class DeviceStatus(StrEnum):
    WORKING = "working"
    FAULTY = "faulty"
    IN_REPAIR = "in_repair"  # with Biro Aset


class Lab(Base):
    """A computer lab: a room with a grid of seats (``rows`` x ``cols``)."""

    __tablename__ = "labs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    building: Mapped[str] = mapped_column(String(120), default="")
    floor: Mapped[str] = mapped_column(String(20), default="")
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Lab {self.code}>"


class Seat(Base):
    """A place in a lab's grid, labelled like ``A1`` (row letter, column number).

    Seats are never deleted (exam attempts and bookings refer to them); a seat outside a
    shrunk grid, or one staff switch off (a pillar, a broken table), is inactive.
    """

    __tablename__ = "seats"
    __table_args__ = (
        UniqueConstraint("lab_id", "label"),
        UniqueConstraint("lab_id", "row", "col"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(10))
    row: Mapped[int] = mapped_column(Integer)
    col: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<Seat {self.lab_id}/{self.label}>"


class Device(Base):
    """The PC at a seat (``seat_id`` is empty while it is away, for instance in repair)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int | None] = mapped_column(
        ForeignKey("seats.id", ondelete="SET NULL"), unique=True, default=None
    )
    hostname: Mapped[str] = mapped_column(String(100), default="")
    asset_number: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=DeviceStatus.WORKING.value)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def working(self) -> bool:
        return self.status == DeviceStatus.WORKING

    def __repr__(self) -> str:
        return f"<Device {self.asset_number} {self.status}>"


class Kiosk(Base):
    """The browser of a lab PC, enrolled to a seat with a long-lived device credential.

    Only the SHA-256 of the token is kept: the token is 256 random bits, so a plain hash is
    enough (no password stretching needed) and lets every request find its kiosk by index.
    """

    __tablename__ = "kiosks"
    __table_args__ = (Index("ix_kiosks_seat_active", "seat_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by: Mapped[int | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    last_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[int | None] = mapped_column(default=None)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<Kiosk {self.id} seat={self.seat_id}>"


class EnrolmentCode(Base):
    """A short code staff show on the projector; lab PCs type it to enrol as kiosks."""

    __tablename__ = "kiosk_enrolment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    uses: Mapped[int] = mapped_column(Integer, default=0)


class EnrolmentFailure(Base):
    """A wrong enrolment code, kept for throttling guessers by address."""

    __tablename__ = "kiosk_enrolment_failures"
    __table_args__ = (Index("ix_kiosk_enrolment_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
