"""Dashboard cards: proposals waiting for Ka. BPTI, trainings being prepared or held for
staff, and one's own upcoming trainings (or open ones) for everyone else."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import Widget
from core.db import utcnow
from plugins.training.flow import ACTIVE
from plugins.training.models import Participant, ParticipantStatus, Training


def widgets(user: Any, session: Session) -> list[Widget]:
    out: list[Widget] = []
    if can(user, "training.approve"):
        waiting = list(session.scalars(select(Training).where(Training.state == "submitted")
                                       .order_by(Training.starts_at).limit(5)))
        out.append(Widget(_("Training proposals to approve"), render_template(
            "training/_widget_list.html", rows=waiting,
            empty=_("No proposal waits for your approval.")), order=12,
            link_endpoint="training.index"))
    if can(user, "training.manage"):
        active = list(session.scalars(select(Training).where(Training.state.in_(
            ("draft", *ACTIVE, "evaluated"))).order_by(Training.starts_at).limit(6)))
        out.append(Widget(_("Trainings in progress"), render_template(
            "training/_widget_list.html", rows=active,
            empty=_("No training is being prepared.")), order=24,
            link_endpoint="training.index"))
    elif can(user, "training.join"):
        mine = list(session.scalars(select(Training).join(
            Participant, Participant.training_id == Training.id).where(
            Participant.user_id == getattr(user, "id", -1),
            Participant.status.in_((ParticipantStatus.REGISTERED.value,
                                    ParticipantStatus.WAITLISTED.value,
                                    ParticipantStatus.INVITED.value)),
            Training.state.in_(ACTIVE)).order_by(Training.starts_at).limit(5)))
        open_ = list(session.scalars(select(Training).where(
            Training.registration_open.is_(True), Training.state.in_(ACTIVE),
            Training.ends_at > utcnow()).order_by(Training.starts_at).limit(5)))
        if mine or open_:
            out.append(Widget(_("Trainings"), render_template(
                "training/_widget_mine.html", mine=mine, open_=open_), order=24,
                link_endpoint="training.index"))
    return out
