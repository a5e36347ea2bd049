"""Trainings on the shared calendar (``ruang_calendar_items``) and as what keeps a lab busy
(``ruang_room_busy``), so the core's registry sees them even without the lab plugin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import CalendarItem
from plugins.training.flow import ACTIVE, APPROVED
from plugins.training.models import Training


def _item(training: Training) -> CalendarItem:
    from plugins.training.tokens import base_url

    return CalendarItem(uid=f"training-{training.id}", title=f"Diklat: {training.title}",
                        start=training.starts_at, end=training.ends_at, source="training",
                        lab_id=training.lab_id, url=f"{base_url()}/training/{training.id}")


def calendar_items(session: Session, start: datetime, end: datetime, user: Any
                   ) -> list[CalendarItem]:
    from plugins.training.service import sees_all

    states = APPROVED if sees_all(user) else ACTIVE
    stmt = select(Training).where(Training.state.in_(states), Training.starts_at < end,
                                  Training.ends_at > start)
    if not sees_all(user):
        stmt = stmt.where(Training.registration_open.is_(True))
    return [_item(t) for t in session.scalars(stmt)]


def room_busy(session: Session, lab_id: int, start: datetime, end: datetime
              ) -> list[CalendarItem]:
    """Trainings in the lab whose room is not held by a booking plugin (which reports its
    own holds): granted by the core's registry alone, or not reserved yet."""
    stmt = select(Training).where(Training.lab_id == lab_id, Training.state.in_(ACTIVE),
                                  Training.starts_at < end, Training.ends_at > start)
    return [_item(t) for t in session.scalars(stmt)
            if not t.room_reference or t.room_reference.startswith("rooms:")]
