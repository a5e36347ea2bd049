"""Dashboard cards: the triage queue and breaches for staff, one's own tickets for everyone."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import Widget
from plugins.helpdesk import access
from plugins.helpdesk.flow import OPEN_STATES, TICKET
from plugins.helpdesk.models import Ticket


def widgets(user: Any, session: Session) -> list[Widget]:
    out: list[Widget] = []
    if can(user, "helpdesk.work") and access.is_staff(user):
        visible = access.visible_clause(user)
        open_ = and_(visible, Ticket.state.in_(OPEN_STATES))
        counts = {
            "triage": session.scalar(select(func.count()).where(
                open_, Ticket.state.in_(("new", "reopened")), Ticket.division.is_(None)))
            if access.is_triager(user) else None,
            "mine": session.scalar(select(func.count()).where(open_,
                                                              Ticket.assignee_id == user.id)),
            "division": session.scalar(select(func.count()).where(
                open_, Ticket.division == user.division)) if user.division else None,
            "open": session.scalar(select(func.count()).where(open_)),
            "breached": session.scalar(select(func.count()).where(
                open_, or_(Ticket.response_breached.is_(True),
                           Ticket.resolution_breached.is_(True)))),
        }
        html = render_template("helpdesk/_widget_staff.html", counts=counts)
        out.append(Widget(_("Helpdesk"), html, order=20, link_endpoint="helpdesk_desk.queue"))
    elif getattr(user, "is_authenticated", False):
        mine = session.scalars(select(Ticket).where(access.visible_clause(user))
                               .order_by(Ticket.updated_at.desc()).limit(5)).all()
        if mine:
            html = render_template("helpdesk/_widget_mine.html", tickets=mine, wf=TICKET)
            out.append(Widget(_("My complaints"), html, order=20,
                              link_endpoint="helpdesk.mine"))
    return out
