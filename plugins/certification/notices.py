"""E-mails of the certification procedure, one function per step, in the reader's language.

Everything is queued in the caller's transaction through ``core.notify.service.queue``: a
step that rolls back sends nothing, and the outbox delivers after commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.certificates.service import verify_url
from core.contracts import Notification, WorkflowEvent
from core.notify.letters import gettext as _
from core.notify.letters import in_language as language
from core.notify.letters import page_url
from plugins.certification.clock import fmt
from plugins.certification.models import (
    Certificate,
    CertParticipant,
    CertProgramme,
    CertRegistration,
)


def url(endpoint: str, **values: Any) -> str:
    """An absolute address of a certification page, with or without a request."""
    return page_url(endpoint, **values)


def queue(session: Session, note: Notification) -> None:
    if not (note.email or note.user_id is not None or note.phone):
        return
    from core.notify.service import queue as queue_one

    queue_one(session, note)


def _to_participant(p: CertParticipant, subject: str, body: str, topic: str,
                    **data: Any) -> Notification:
    return Notification(subject=subject, body=body, email=p.email if "@" in p.email else "",
                        phone=p.phone, user_id=p.user_id, topic=topic, data=data)


def _describe(reg: CertRegistration) -> str:
    return f"{reg.field.programme.title} - {reg.field.name}"


def access_link(session: Session, p: CertParticipant, raw_token: str, minutes: int) -> None:
    address = url("certification.portal_link", token=raw_token)
    with language(p.locale):
        queue(session, _to_participant(
            p, _("Your link to the certification portal"),
            _("Hello %(name)s,\n\nOpen this link to confirm your e-mail address and sign in to "
              "the BPTI certification portal:\n\n%(url)s\n\nThe link works once and expires "
              "in %(minutes)d minutes. If you did not ask for it, ignore this message.",
              name=p.full_name, url=address, minutes=minutes),
            "certification.access_link"))


def registered(session: Session, reg: CertRegistration, position: int | None = None) -> None:
    p = reg.participant
    mine = url("certification.portal_me")
    with language(p.locale):
        if reg.status == "confirmed":
            subject = _("Registration confirmed: %(what)s", what=_describe(reg))
            body = _("Hello %(name)s,\n\nYour seat in %(what)s is confirmed (registration "
                     "%(code)s, seat %(seat)s).", name=p.full_name, what=_describe(reg),
                     code=reg.code, seat=reg.seat_no)
            if reg.fee:
                body += "\n\n" + _("The fee is Rp %(fee)s; BPTI records your payment.",
                                   fee=f"{reg.fee:,}".replace(",", "."))
        else:
            subject = _("On the waiting list: %(what)s", what=_describe(reg))
            body = _("Hello %(name)s,\n\n%(what)s is full. You are number %(position)s on the "
                     "waiting list (registration %(code)s). When a seat is freed we offer it to "
                     "the waiting list in order, by e-mail, with a time limit to accept.",
                     name=p.full_name, what=_describe(reg), position=position or "?",
                     code=reg.code)
        body += "\n\n" + _("Your registrations: %(url)s", url=mine)
        queue(session, _to_participant(p, subject, body, "certification.registered",
                                       registration=reg.code, status=reg.status))


def offered(session: Session, reg: CertRegistration) -> None:
    p = reg.participant
    mine = url("certification.portal_me")
    with language(p.locale):
        queue(session, _to_participant(
            p, _("A seat is free for you: %(what)s", what=_describe(reg)),
            _("Hello %(name)s,\n\nA seat in %(what)s has been freed and is held for you until "
              "%(deadline)s. Accept it on the portal before then, or it goes to the next person "
              "on the waiting list:\n\n%(url)s", name=p.full_name, what=_describe(reg),
              deadline=fmt(reg.offer_expires_at), url=mine),
            "certification.offered", registration=reg.code))


def ended(session: Session, reg: CertRegistration, reason: str = "") -> None:
    """Tell the participant a registration ended without them acting (staff, expiry)."""
    p = reg.participant
    with language(p.locale):
        if reg.status == "offer_expired":
            subject = _("Seat offer expired: %(what)s", what=_describe(reg))
            body = _("Hello %(name)s,\n\nThe seat offered to you in %(what)s was not accepted "
                     "in time and has gone to the next person on the waiting list.",
                     name=p.full_name, what=_describe(reg))
        else:
            subject = _("Registration cancelled: %(what)s", what=_describe(reg))
            body = _("Hello %(name)s,\n\nYour registration %(code)s for %(what)s has been "
                     "cancelled.", name=p.full_name, code=reg.code, what=_describe(reg))
            if reason:
                body += "\n\n" + _("Reason: %(reason)s", reason=reason)
        queue(session, _to_participant(p, subject, body, "certification.ended",
                                       registration=reg.code, status=reg.status))


def certificate_issued(session: Session, cert: Certificate, p: CertParticipant) -> None:
    check = verify_url(cert.verify_code)
    mine = url("certification.portal_me")
    with language(p.locale):
        queue(session, _to_participant(
            p, _("Your certificate %(number)s", number=cert.number),
            _("Hello %(name)s,\n\nCongratulations: your certificate for %(what)s has been "
              "issued with number %(number)s. Download it from your registrations:\n%(mine)s\n\n"
              "Anyone can check it here:\n%(check)s", name=p.full_name,
              what=f"{cert.programme_title} - {cert.field_name}", number=cert.number,
              mine=mine, check=check),
            "certification.certificate", number=cert.number))


# -- the proposal ----------------------------------------------------------------------------


def _users(session: Session, *, role: str | None = None, ids: tuple[int, ...] = ()
           ) -> list[User]:
    stmt = select(User).where(User.active.is_(True))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if ids:
        stmt = stmt.where(User.id.in_(ids))
    return list(session.scalars(stmt))


def _to_user(user: User, subject: str, body: str, topic: str, **data: Any) -> Notification:
    return Notification(subject=subject, body=body, email=user.email, phone=user.phone,
                        user_id=user.id, topic=topic, data=data)


def proposal_step(session: Session, prog: CertProgramme, event: WorkflowEvent) -> None:
    """Tell WR II about a submitted proposal, and its author about WR II's decision."""
    page = url("certification.programme", programme_id=prog.id)
    if event.action == "submit":
        for user in _users(session, role="approver"):
            with language(user.locale):
                queue(session, _to_user(
                    user, _("Certification proposal for approval: %(title)s", title=prog.title),
                    _("BPTI proposes the certification %(title)s (letter %(letter)s). Please "
                      "approve it or return it with comments:\n\n%(url)s", title=prog.title,
                      letter=prog.letter_number or "-", url=page),
                    "certification.proposal", programme=prog.id))
        return
    if event.action not in ("approve", "return", "reject") or prog.created_by is None:
        return
    for user in _users(session, ids=(prog.created_by,)):
        with language(user.locale):
            verdict = {"approve": _("approved"), "return": _("returned with comments"),
                       "reject": _("rejected")}[event.action]
            body = _("WR II has %(verdict)s the certification proposal %(title)s.",
                     verdict=verdict, title=prog.title)
            if event.comment:
                body += "\n\n" + _("Comments: %(comment)s", comment=event.comment)
            queue(session, _to_user(user, _("Proposal %(title)s: %(verdict)s", title=prog.title,
                                            verdict=verdict),
                                    body + "\n\n" + page, "certification.proposal",
                                    programme=prog.id, action=event.action))
