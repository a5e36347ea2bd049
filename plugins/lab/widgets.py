"""Dashboard cards of the lab plugin, each for the people who act on it."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import Widget
from core.rooms import service as rooms
from plugins.lab import repairs, requests
from plugins.lab.models import LabRequest, PreparationItem, RequestState


def _count(session: Session, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(LabRequest).where(*where)) or 0)


def widgets(user: Any, session: Session) -> list[Widget]:
    out: list[Widget] = []
    if not can(user, "lab.view"):
        return out
    codes = {lab.id: lab.code for lab in rooms.labs(session)}
    if can(user, "lab.approve"):
        pending = list(session.scalars(select(LabRequest).where(
            LabRequest.state == RequestState.SUBMITTED.value)
            .order_by(LabRequest.created_at).limit(5)))
        out.append(Widget(_("Lab requests to approve"), render_template(
            "lab/_widget_requests.html", rows=pending, codes=codes,
            total=_count(session, LabRequest.state == RequestState.SUBMITTED.value),
            empty=_("Nothing waits for your approval.")), order=10,
            link_endpoint="lab.requests_list"))
    if getattr(user, "division", None) == "YANSI" and getattr(user, "is_division_head", False):
        delegated = list(session.scalars(select(LabRequest).where(
            LabRequest.state == RequestState.DELEGATED.value).order_by(LabRequest.first_day)
            .limit(5)))
        out.append(Widget(_("Labs to assign for preparation"), render_template(
            "lab/_widget_requests.html", rows=delegated, codes=codes,
            total=_count(session, LabRequest.state == RequestState.DELEGATED.value),
            empty=_("No request waits for a preparation assignment.")), order=11,
            link_endpoint="lab.requests_list"))
    if can(user, "lab.prepare"):
        mine = list(session.scalars(select(LabRequest).where(
            LabRequest.state == RequestState.PREPARING.value,
            (LabRequest.assignee_id == user.id)
            | LabRequest.id.in_(select(PreparationItem.request_id).where(
                PreparationItem.assignee_id == user.id))).order_by(LabRequest.first_day)))
        if mine:
            out.append(Widget(_("My lab preparations"), render_template(
                "lab/_widget_requests.html", rows=mine, codes=codes, total=len(mine),
                empty=""), order=12, link_endpoint="lab.requests_list"))
    if can(user, "lab.live"):
        today = requests.today_sessions(session)
        out.append(Widget(_("Today in the labs"), render_template(
            "lab/_widget_today.html", rows=today, codes=codes), order=13,
            link_endpoint="lab.calendar"))
    if can(user, "lab.repair"):
        open_repairs = repairs.repairs(session, open_only=True)
        out.append(Widget(_("PCs out of service"), render_template(
            "lab/_widget_repairs.html", rows=open_repairs[:5], total=len(open_repairs),
            codes=codes), order=14, link_endpoint="lab.repairs"))
    if not can(user, "lab.requests_all") and can(user, "lab.request"):
        own = requests.visible_requests(session, user, mine=True, limit=5)
        out.append(Widget(_("My lab requests"), render_template(
            "lab/_widget_requests.html", rows=own, codes=codes, total=len(own),
            empty=_("You have not asked for a lab yet."), cta=True), order=15,
            link_endpoint="lab.index"))
    return out
