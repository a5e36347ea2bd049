"""Certification sessions in calendars: the shared calendar and the labs' busy times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import CalendarItem
from plugins.certification.flows import PUBLIC_STATES, SEATING_STATES
from plugins.certification.models import (
    ACTIVE,
    CertField,
    CertParticipant,
    CertProgramme,
    CertRegistration,
    CertSession,
    ProgrammeState,
)

PLANNED = (ProgrammeState.APPROVED.value, *PUBLIC_STATES)


def _rows(session: Session, start: datetime, end: datetime, states: tuple[str, ...],
          lab_id: int | None = None) -> list[tuple[CertSession, CertField, CertProgramme]]:
    stmt = (select(CertSession, CertField, CertProgramme)
            .join(CertField, CertSession.field_id == CertField.id)
            .join(CertProgramme, CertField.programme_id == CertProgramme.id)
            .where(CertSession.starts_at < end, CertSession.ends_at > start,
                   CertProgramme.state.in_(states))
            .order_by(CertSession.starts_at))
    if lab_id is not None:
        stmt = stmt.where(CertSession.lab_id == lab_id)
    return [tuple(r) for r in session.execute(stmt).all()]  # type: ignore[misc]


def _item(s: CertSession, f: CertField, p: CertProgramme, url: str = "") -> CalendarItem:
    return CalendarItem(uid=f"certification-session-{s.id}",
                        title=f"Sertifikasi {f.name} - {s.title}", start=s.starts_at,
                        end=s.ends_at, source="certification", lab_id=s.lab_id, url=url)


def calendar_items(session: Session, start: datetime, end: datetime, user: Any
                   ) -> list[CalendarItem]:
    """Staff see every planned session; others see the public ones and their own."""
    from flask import has_request_context, url_for

    staff = user is not None and can(user, "certification.view")
    rows = _rows(session, start, end, PLANNED if staff else PUBLIC_STATES)
    if not staff:
        mine: set[int] = set()
        if user is not None and getattr(user, "is_authenticated", False):
            mine = set(session.scalars(
                select(CertRegistration.field_id).join(CertParticipant).where(
                    CertParticipant.user_id == user.id, CertRegistration.status.in_(ACTIVE))))
        rows = [r for r in rows if r[2].state in SEATING_STATES or r[1].id in mine]
    out = []
    for s, f, p in rows:
        url = ""
        if has_request_context():
            url = (url_for("certification.field", field_id=f.id) if staff
                   else url_for("certification.portal_programme", programme_id=p.id))
        out.append(_item(s, f, p, url))
    return out


def busy(session: Session, lab_id: int, start: datetime, end: datetime) -> list[CalendarItem]:
    return [_item(s, f, p) for s, f, p in _rows(session, start, end, PLANNED, lab_id)]
