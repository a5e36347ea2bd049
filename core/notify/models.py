"""The outbox: one row per message and channel, written with the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)


class OutboxMessage(Base):
    """A notification waiting for, or done with, one channel.

    ``pending`` rows are sent once ``next_attempt_at`` has passed. A deliverer leases a row
    by setting ``sending`` with ``lease_until`` and its ``lease_holder``; a lease that runs
    out (the process died while sending) makes the row due again. ``key`` is the row's
    stable identity towards receivers (e-mail Message-ID, webhook delivery header), so a
    message that had to be sent twice can be recognised as the same one.
    """

    __tablename__ = "notify_outbox"
    __table_args__ = (
        Index("ix_notify_outbox_due", "status", "next_attempt_at"),
        Index("ix_notify_outbox_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    topic: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_holder: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def recipient(self) -> str:
        return self.email or self.phone

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status} to={self.recipient!r}>"
