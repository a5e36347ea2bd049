"""Tables of the quality records: staff's format overrides, counters, and issued numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class RecordFormat(Base):
    """A format staff chose for a record type, replacing the plugin's default."""

    __tablename__ = "record_formats"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    fmt: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(default=None)


class RecordCounter(Base):
    """The last sequence number issued for a record type in one period.

    ``period`` is ``""`` for types that never reset, ``"2026"`` for yearly ones and
    ``"2026-03"`` for monthly ones. Incrementing this row is what serialises issuers:
    the second writer waits on the first's row lock (or SQLite's write lock).
    """

    __tablename__ = "record_counters"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class IssuedRecord(Base):
    """One number handed out, with what it numbers (``ref_type`` / ``ref_id``)."""

    __tablename__ = "records_issued"
    __table_args__ = (
        UniqueConstraint("code", "period", "seq"),
        Index("ix_records_issued_ref", "ref_type", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    period: Mapped[str] = mapped_column(String(7))
    seq: Mapped[int] = mapped_column(Integer)
    # The last guard against duplicates, whatever the format says.
    number: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str] = mapped_column(String(40), default="")
    ref_type: Mapped[str] = mapped_column(String(60), default="")
    ref_id: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<IssuedRecord {self.number}>"
