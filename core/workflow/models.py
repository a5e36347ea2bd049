"""The history of every workflow transition, for every plugin's objects, in one table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class WorkflowStep(Base):
    """One transition made: who moved which object from which state to which, and why.

    ``action`` is ``"start"`` (with an empty ``from_state``) for the row that records an
    object entering its workflow. ``actor_name`` is kept as it was, so the history still
    reads right after an account is renamed or removed.
    """

    __tablename__ = "workflow_history"
    __table_args__ = (Index("ix_workflow_history_object", "workflow", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40), default="")
    to_state: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(default=None)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (f"<WorkflowStep {self.workflow} #{self.object_id} {self.action}: "
                f"{self.from_state} -> {self.to_state}>")
