"""The messages the training plugin sends, queued through ``core.notify`` in the caller's
transaction: proposals to Ka. BPTI and decisions back to the proposer, invitations with a
personal link, registration receipts, reminders, schedule changes and cancellations.

Participants without an account read Indonesian; people with an account read their own
language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.accounts.models import User
from core.accounts.roles import Role
from core.contracts import Notification, WorkflowEvent
from core.notify.letters import gettext as _
from core.notify.letters import in_language, letter, queue_all
from plugins.training import clock, tokens
from plugins.training.errors import N_
from plugins.training.models import Participant, ParticipantStatus, Training

SIGNATURE = "Diklat BPTI"


def _where(training: Training, session: Session) -> str:
    if training.lab_id is not None:
        from core.rooms.service import get_lab

        lab = get_lab(session, training.lab_id)
        if lab is not None:
            return f"{lab.name} ({lab.code})" + (f", {training.venue}" if training.venue else "")
    return training.venue


def _details(session: Session, training: Training) -> list[str]:
    return [
        _("Training: %(title)s", title=training.title),
        _("Theme: %(theme)s", theme=training.theme),
        _("When: %(when)s", when=clock.span(training.starts_at, training.ends_at)),
        _("Where: %(where)s", where=_where(training, session) or "-"),
    ]


def _locale_of(session: Session, person: Participant) -> str | None:
    if person.user_id is None:
        return None
    user = session.get(User, person.user_id)
    return user.locale if user is not None else None


def _to_participant(session: Session, training: Training, person: Participant, topic: str,
                    subject: Callable[[], str], lines: Callable[[], list[str]],
                    link: bool = True) -> Notification:
    with in_language(_locale_of(session, person)):
        details = _details(session, training)
        if link:
            details += ["", _("Your page (registration, QR code for attendance, tests, "
                              "evaluation, certificate):"),
                        tokens.page_url(person.id, training.id)]
        body = letter(person.name, lines(), signature=SIGNATURE, details=details)
        title = f"[{training.code}] {subject()}"
    return Notification(subject=title, body=body, email=person.email,
                        user_id=person.user_id, topic=topic,
                        data={"training": training.id, "participant": person.id})


def _to_user(user: User, training: Training, topic: str, subject: Callable[[], str],
             lines: Callable[[], list[str]]) -> Notification:
    with in_language(user.locale):
        title = f"[{training.code}] {subject()}"
        body = letter(user.display_name, lines(), signature=SIGNATURE, details=[
            _("Training: %(title)s", title=training.title),
            _("When: %(when)s", when=clock.span(training.starts_at, training.ends_at)),
            "", f"{tokens.base_url()}/training/{training.id}"])
    return Notification(subject=title, body=body, email=user.email or "", user_id=user.id,
                        topic=topic, data={"training": training.id})


# -- proposal --------------------------------------------------------------------------------


def _heads(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.HEAD.value,
                                                   User.active.is_(True))))


def on_transition(obj: Any, event: WorkflowEvent) -> list[Notification]:
    """The workflow's ``notify``: Ka. BPTI hears of proposals, the proposer of decisions,
    participants of a cancellation."""
    session = object_session(obj)
    if session is None:
        return []
    training: Training = obj
    out: list[Notification] = []
    if event.action == "submit":
        for head in _heads(session):
            out.append(_to_user(head, training, "training.proposal",
                                lambda: _("Training proposal to approve: %(title)s",
                                          title=training.title),
                                lambda: [_("BPTI proposes a training and asks for your "
                                           "approval."), "", training.goals[:1500]]))
    elif event.action in ("approve", "reject", "revise"):
        author = session.get(User, training.created_by) if training.created_by else None
        if author is not None and author.active and author.id != event.actor_id:
            decided = {"approve": N_("Approved"), "reject": N_("Rejected"),
                       "revise": N_("Returned for revision")}[event.action]

            def lines() -> list[str]:
                out_lines = [_("Ka. BPTI decided on the proposal: %(decision)s.",
                               decision=_(decided))]
                if event.action == "approve" and training.letter_number:
                    out_lines.append(_("Letter number: %(number)s",
                                       number=training.letter_number))
                if event.comment:
                    out_lines += ["", event.comment]
                return out_lines

            out.append(_to_user(author, training, "training.decision",
                                lambda: _("Proposal %(decision)s: %(title)s",
                                          decision=_(decided), title=training.title), lines))
    elif event.action == "cancel":
        for person in session.scalars(select(Participant).where(
                Participant.training_id == training.id,
                Participant.status.in_((ParticipantStatus.REGISTERED.value,
                                        ParticipantStatus.WAITLISTED.value,
                                        ParticipantStatus.INVITED.value)))):
            out.append(_to_participant(
                session, training, person, "training.cancelled",
                lambda: _("Training cancelled"),
                lambda: [_("We are sorry: this training was cancelled."), "", event.comment],
                link=False))
    return out


# -- participants ----------------------------------------------------------------------------


def invitation(session: Session, training: Training, person: Participant) -> None:
    def lines() -> list[str]:
        out = [_("BPTI invites you to a training."), "", training.description[:1500]]
        if training.goals:
            out += ["", _("Goals:"), training.goals[:1500]]
        out += ["", _("Please accept or decline on your page; seats are limited to "
                      "%(n)s.", n=training.capacity)]
        return out

    queue_all(session, [_to_participant(session, training, person, "training.invitation",
                                     lambda: _("Invitation: %(title)s", title=training.title),
                                     lines)])


def registered(session: Session, training: Training, person: Participant) -> None:
    waiting = person.status == ParticipantStatus.WAITLISTED.value

    def subject() -> str:
        return _("On the waiting list") if waiting else _("Registration confirmed")

    def lines() -> list[str]:
        if waiting:
            return [_("The training is full, so you are on the waiting list. We will write "
                      "as soon as a seat is free for you.")]
        return [_("You are registered. Show the QR code on your page at the door to sign "
                  "the attendance list.")]

    queue_all(session, [_to_participant(session, training, person, "training.registered",
                                     subject, lines)])


def reminder(session: Session, training: Training, person: Participant) -> None:
    def lines() -> list[str]:
        out = [_("A reminder: your training starts soon.")]
        if training.check_mode == "quiz":
            out.append(_("Please take the short pre-test on your page before it starts."))
        return out

    queue_all(session, [_to_participant(session, training, person, "training.reminder",
                                     lambda: _("Reminder: %(title)s", title=training.title),
                                     lines)])


def rescheduled(session: Session, training: Training) -> None:
    notes = [_to_participant(session, training, person, "training.rescheduled",
                             lambda: _("Schedule changed: %(title)s", title=training.title),
                             lambda: [_("The time or place of the training changed; here "
                                        "are the new details.")])
             for person in session.scalars(select(Participant).where(
                 Participant.training_id == training.id,
                 Participant.status.in_((ParticipantStatus.REGISTERED.value,
                                         ParticipantStatus.WAITLISTED.value))))]
    queue_all(session, notes)


def certificate_ready(session: Session, training: Training, person: Participant,
                      number: str) -> None:
    queue_all(session, [_to_participant(
        session, training, person, "training.certificate",
        lambda: _("Your certificate of attendance"),
        lambda: [_("Your certificate of attendance (%(number)s) is ready; download it from "
                   "your page.", number=number)])])
