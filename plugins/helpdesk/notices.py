"""The messages the helpdesk sends: to the requester on every status change and public
reply, to staff when a ticket reaches them, is near its target or breaches it.

Each is queued through ``core.notify.service`` in the caller's transaction, and written in
the reader's language (the requester's language when they filed, Indonesian by default).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.accounts.models import User
from core.accounts.roles import DIVISION_LABELS, Division, Role
from core.contracts import Notification, WorkflowEvent
from core.notify.letters import gettext as _
from core.notify.letters import in_language as _locale
from core.notify.letters import letter, queue_all
from plugins.helpdesk import links
from plugins.helpdesk.flow import PUBLIC_COMMENT_ACTIONS, TICKET
from plugins.helpdesk.models import Follower, Ticket

SIGNATURE = "Helpdesk BPTI"


def division_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        return DIVISION_LABELS[Division(code)]
    except ValueError:
        return code


# -- recipients ----------------------------------------------------------------------------


def _requesters(session: Session, ticket: Ticket) -> list[tuple[str, str, int | None, str, str]]:
    """(name, email, user id, phone, locale) of the requester and every follower."""
    out = [(ticket.requester_name, ticket.requester_email, ticket.created_by,
            ticket.requester_phone, ticket.locale)]
    for f in session.scalars(select(Follower).where(Follower.ticket_id == ticket.id)):
        out.append((f.name, f.email, f.user_id, f.phone, f.locale))
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in out:
        key = (row[1].lower(), row[3])
        if key in seen or not (row[1] or row[3]):
            continue
        seen.add(key)
        unique.append(row)
    return unique


def division_heads(session: Session, division: str | None) -> list[User]:
    if not division:
        return []
    return list(session.scalars(select(User).where(
        User.role == Role.STAFF.value, User.division == division,
        User.is_division_head.is_(True), User.active.is_(True))))


def bpti_heads(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.HEAD.value,
                                                   User.active.is_(True))))


def _to_user(user: User, subject: str, body: str, topic: str, ticket: Ticket) -> Notification:
    return Notification(subject=subject, body=body, email=user.email or "", phone="",
                        user_id=user.id, topic=topic,
                        data={"ticket": ticket.number, "ticket_id": ticket.id})


# -- to the requester -----------------------------------------------------------------------


def _requester_note(session: Session, ticket: Ticket, topic: str, subject_fn: Any,
                    body_fn: Any) -> list[Notification]:
    out = []
    for name, email, user_id, phone, locale in _requesters(session, ticket):
        with _locale(locale):
            subject = f"[{ticket.number}] {subject_fn()}"
            body = letter(name or _("there"), [body_fn()], signature=SIGNATURE, details=[
                _("Ticket number: %(number)s", number=ticket.number),
                _("Subject: %(subject)s", subject=ticket.subject),
                _("See the status and reply: %(url)s", url=links.ticket_url(ticket))])
        out.append(Notification(subject=subject, body=body, email=email, phone=phone,
                                user_id=user_id, topic=topic,
                                data={"ticket": ticket.number, "state": ticket.state}))
    return out


def filed(session: Session, ticket: Ticket) -> None:
    """The receipt: the ticket number, at once."""
    def subject() -> str:
        return _("Your complaint was received")

    def body() -> str:
        return "\n".join([
            _("Your complaint was received by BPTI with ticket number %(number)s.",
              number=ticket.number),
            _("Keep this number: with it and your e-mail or phone you can check the status "
              "on the support portal, or ask the helpdesk by phone or WhatsApp."),
        ])

    queue_all(session, _requester_note(session, ticket, "helpdesk.filed", subject, body))


def on_transition(obj: Any, event: WorkflowEvent) -> list[Notification]:
    """The workflow's ``notify``: tell the requester, and the staff the ticket goes to."""
    session = object_session(obj)
    if session is None:
        return []
    ticket: Ticket = obj
    comment = event.comment if event.action in PUBLIC_COMMENT_ACTIONS else ""

    def subject() -> str:
        return _("Status: %(state)s", state=_(TICKET.label(event.to_state)))

    def body() -> str:
        lines = [_("The status of your complaint is now: %(state)s.",
                   state=_(TICKET.label(event.to_state)))]
        if event.action == "forward" and ticket.division:
            lines.append(_("It was forwarded to the division that will solve it: "
                           "%(division)s.", division=division_label(ticket.division)))
        if event.action == "wait":
            lines.append(_("We need something from you; please reply on the ticket page:"))
        if comment:
            lines += ["", comment]
        if event.to_state == "resolved":
            lines += ["", _("If the problem is not solved, reopen the ticket on its page."),
                      _("How satisfied are you? One click rates our service:")]
            lines += [f"  {'★' * s}{'☆' * (5 - s)}  {links.rating_url(ticket, s)}"
                      for s in range(5, 0, -1)]
        return "\n".join(lines)

    notes = _requester_note(session, ticket, "helpdesk.status", subject, body)
    if event.action == "forward":
        notes += _to_division(session, ticket, event)
    return notes


def _to_division(session: Session, ticket: Ticket, event: WorkflowEvent) -> list[Notification]:
    people = {u.id: u for u in division_heads(session, ticket.division)}
    if ticket.assignee_id:
        assignee = session.get(User, ticket.assignee_id)
        if assignee is not None and assignee.active:
            people[assignee.id] = assignee
    out = []
    for user in people.values():
        if user.id == event.actor_id:
            continue
        with _locale(user.locale):
            subject = f"[{ticket.number}] " + _("Forwarded to %(division)s: %(subject)s",
                                                division=ticket.division,
                                                subject=ticket.subject)
            body = "\n".join([_("A complaint was forwarded to your division."),
                              "", ticket.description[:2000], "",
                              event.comment, "", links.desk_url(ticket)])
        out.append(_to_user(user, subject, body, "helpdesk.forwarded", ticket))
    return out


def public_reply(session: Session, ticket: Ticket, author: str, text: str) -> None:
    def subject() -> str:
        return _("New reply from %(name)s", name=author)

    def body() -> str:
        return "\n".join([_("%(name)s replied to your complaint:", name=author), "", text])

    queue_all(session, _requester_note(session, ticket, "helpdesk.reply", subject, body))


# -- to staff ------------------------------------------------------------------------------


def triage(session: Session, ticket: Ticket) -> None:
    """A new complaint waits for Kabag. YANSI."""
    from plugins.helpdesk import options

    if not options.get(session, "helpdesk.notify_triage"):
        return
    notes = []
    for user in division_heads(session, Division.YANSI.value):
        with _locale(user.locale):
            subject = f"[{ticket.number}] " + _("New complaint: %(subject)s",
                                                subject=ticket.subject)
            body = "\n".join([_("A new complaint waits for triage."), "",
                              _("From: %(name)s", name=ticket.requester_name),
                              "", ticket.description[:2000], "", links.desk_url(ticket)])
        notes.append(_to_user(user, subject, body, "helpdesk.new", ticket))
    queue_all(session, notes)


def assigned(session: Session, ticket: Ticket, user: User, actor_id: int | None) -> None:
    if user.id == actor_id:
        return
    with _locale(user.locale):
        subject = f"[{ticket.number}] " + _("Assigned to you: %(subject)s",
                                            subject=ticket.subject)
        body = "\n".join([_("A complaint was assigned to you."), "",
                          ticket.description[:2000], "", links.desk_url(ticket)])
    queue_all(session, [_to_user(user, subject, body, "helpdesk.assigned", ticket)])


def requester_replied(session: Session, ticket: Ticket, text: str) -> None:
    people: dict[int, User] = {}
    if ticket.assignee_id:
        user = session.get(User, ticket.assignee_id)
        if user is not None and user.active:
            people[user.id] = user
    if not people:
        people = {u.id: u for u in division_heads(session, ticket.division
                                                  or Division.YANSI.value)}
    notes = []
    for user in people.values():
        with _locale(user.locale):
            subject = f"[{ticket.number}] " + _("The user replied: %(subject)s",
                                                subject=ticket.subject)
            body = "\n".join([text[:4000], "", links.desk_url(ticket)])
        notes.append(_to_user(user, subject, body, "helpdesk.requester_reply", ticket))
    queue_all(session, notes)


def _staff_for(session: Session, ticket: Ticket) -> dict[int, User]:
    people: dict[int, User] = {}
    if ticket.assignee_id:
        user = session.get(User, ticket.assignee_id)
        if user is not None and user.active:
            people[user.id] = user
    return people


def sla_warning(session: Session, ticket: Ticket, targets: list[str]) -> None:
    people = _staff_for(session, ticket) or {
        u.id: u for u in division_heads(session, ticket.division or Division.YANSI.value)}
    notes = []
    for user in people.values():
        with _locale(user.locale):
            subject = f"[{ticket.number}] " + _("Service level target near: %(subject)s",
                                                subject=ticket.subject)
            body = "\n".join([_("This complaint is close to its service level target."),
                              "", links.desk_url(ticket)])
        notes.append(_to_user(user, subject, body, "helpdesk.sla_warning", ticket))
    queue_all(session, notes)


def escalation(session: Session, ticket: Ticket, targets: list[str]) -> None:
    """To the Kabag. of the ticket's division (Kabag. YANSI while unrouted), and the
    assignee; urgent tickets also to Ka. BPTI."""
    people = {u.id: u for u in division_heads(session, ticket.division or Division.YANSI.value)}
    people.update(_staff_for(session, ticket))
    if ticket.priority == "urgent":
        people.update({u.id: u for u in bpti_heads(session)})
    notes = []
    for user in people.values():
        with _locale(user.locale):
            subject = f"[{ticket.number}] " + _("Escalated, service level breached: "
                                                "%(subject)s", subject=ticket.subject)
            body = "\n".join([
                _("This complaint has breached its service level target and is escalated "
                  "to you."),
                _("Division: %(division)s", division=division_label(ticket.division) or "-"),
                "", links.desk_url(ticket)])
        notes.append(_to_user(user, subject, body, "helpdesk.escalation", ticket))
    queue_all(session, notes)
