"""The table behind the scheduler: one row per background job, claimed once per interval."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class JobLease(Base):
    """When job ``name`` may run next, and what its last run did.

    A process runs a job only after it has moved ``next_run_at`` forward with an UPDATE
    that matches while the old value is due; the database lets exactly one such UPDATE
    through, so exactly one process runs each interval of the job.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column()
    interval_s: Mapped[float] = mapped_column(Float, default=0.0)
    holder: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)

    def __repr__(self) -> str:
        return f"<JobLease {self.name} next={self.next_run_at:%H:%M:%S} runs={self.runs}>"
