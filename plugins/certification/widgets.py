"""Dashboard cards: proposals waiting for WR II, open registrations, one's own seats."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import Widget
from plugins.certification import participants, registrations
from plugins.certification.models import CertProgramme, ProgrammeState


def widgets(user: Any, session: Session) -> list[Widget]:
    out: list[Widget] = []
    if getattr(user, "role", None) in ("approver", "admin"):
        waiting = list(session.scalars(select(CertProgramme).where(
            CertProgramme.state == ProgrammeState.SUBMITTED.value).order_by(CertProgramme.id)))
        out.append(Widget(_("Certification proposals for WR II"), render_template(
            "certification/_widget_programmes.html", rows=waiting, seats=False,
            empty=_("No proposal waits for approval.")), order=30,
            link_endpoint="certification.index"))
    if can(user, "certification.manage"):
        running = list(session.scalars(select(CertProgramme).where(CertProgramme.state.in_(
            (ProgrammeState.PUBLISHED.value, ProgrammeState.RUNNING.value)))
            .order_by(CertProgramme.registration_closes_at)))
        waiting_counts = {f.id: registrations.waiting(session, f.id)
                          for p in running for f in p.fields}
        out.append(Widget(_("Certification seats"), render_template(
            "certification/_widget_programmes.html", rows=running, seats=True,
            waiting=waiting_counts, empty=_("No certification is published.")), order=31,
            link_endpoint="certification.index"))
    if user is not None and getattr(user, "is_authenticated", False):
        me = participants.of_user(session, user, create=False)
        if me is not None:
            rows = [r for r in registrations.of_participant(session, me.id)][:5]
            if rows:
                out.append(Widget(_("My certifications"), render_template(
                    "certification/_widget_mine.html", rows=rows), order=32,
                    link_endpoint="certification.portal_me"))
    return out
