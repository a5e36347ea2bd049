"""Background job: remind registered participants before their training starts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from core.instance import ruang
from plugins.training import notices
from plugins.training.models import Participant, ParticipantStatus, Training
from plugins.training.options import setting

log = logging.getLogger("ruang.training")


def due_reminders(session: Session, now: datetime | None = None) -> int:
    """Queue a reminder for every registered participant of a training that starts within
    ``training.reminder_hours`` and who has not had one; returns how many were queued."""
    now = now or utcnow()
    hours = int(setting(session, "training.reminder_hours"))
    if hours <= 0:
        return 0
    horizon = now + timedelta(hours=hours)
    sent = 0
    trainings = session.scalars(select(Training).where(
        Training.state.in_(("preparation", "held")), Training.starts_at > now,
        Training.starts_at <= horizon))
    for training in trainings:
        people = list(session.scalars(select(Participant).where(
            Participant.training_id == training.id,
            Participant.status == ParticipantStatus.REGISTERED.value,
            Participant.reminded_at.is_(None))))
        for person in people:
            notices.reminder(session, training, person)
            person.reminded_at = now
        if people:
            audit(session, "training.remind", actor="system", object_type="training",
                  object_id=training.id, details={"participants": [p.id for p in people]})
            sent += len(people)
    session.flush()
    return sent


def run_reminders() -> None:
    with ruang().db.transaction() as session:
        sent = due_reminders(session)
    if sent:
        log.info("training: queued %d reminder(s)", sent)
