"""E-mails of the lab procedure, one function per step, each in its reader's language.

Messages are queued in the caller's transaction through ``core.notify.service.queue``, so a
step that rolls back sends nothing; the outbox delivers them after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from core.accounts.models import User
from core.contracts import Notification
from plugins.lab import people
from plugins.lab.errors import N_, tr
from plugins.lab.models import LabRequest, Occurrence, Repair
from plugins.lab.timeslots import local


@contextmanager
def in_language(locale: str | None) -> Iterator[None]:
    from flask import has_app_context

    if not has_app_context():
        yield
        return
    from flask_babel import force_locale

    from core.instance import ruang

    with force_locale(locale or ruang().settings.default_locale):
        yield


def _(msgid: str, **params: Any) -> str:
    return tr(msgid, **params)


def link(path: str) -> str:
    """An absolute address of ``path`` for an e-mail (``RUANG_PUBLIC_URL`` when set)."""
    from flask import has_app_context, has_request_context, request

    if has_app_context():
        from core.instance import ruang

        base = ruang().settings.public_url
        if base:
            return base.rstrip("/") + path
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return path


def queue(session: Session, notes: Iterable[Notification]) -> int:
    from core.notify.service import queue as queue_one

    count = 0
    for note in notes:
        if note.email or note.user_id is not None or note.phone:
            queue_one(session, note)
            count += 1
    return count


def _to_user(user: User, subject: str, body: str, topic: str, **data: Any) -> Notification:
    return Notification(subject=subject, body=body, email=user.email, phone=user.phone,
                        user_id=user.id, topic=topic, data=data)


def _when(req: LabRequest) -> str:
    first = req.first_day.strftime("%d-%m-%Y")
    span = f"{req.start_time:%H:%M}-{req.end_time:%H:%M}"
    if req.weekly and req.last_day != req.first_day:
        return _("every week from %(first)s to %(last)s, %(span)s", first=first,
                 last=req.last_day.strftime("%d-%m-%Y"), span=span)
    return f"{first}, {span}"


def _requester_note(session: Session, req: LabRequest, subject_id: str, body_id: str,
                    topic: str, **params: Any) -> list[Notification]:
    """The requester's copy: to their account when they have one, else to the letter's
    e-mail address."""
    account = people.user(session, req.requester_id)
    locale = account.locale if account else None
    values = {"purpose": req.purpose, "url": link(f"/lab/requests/{req.id}"), **params,
              "number": req.number}
    with in_language(locale):
        values["when"] = _when(req)
        subject = _(subject_id, **values)
        body = _(body_id, **values)
    if account is not None:
        return [_to_user(account, subject, body, topic, request_id=req.id)]
    if req.requester_email:
        return [Notification(subject=subject, body=body, email=req.requester_email,
                             phone=req.requester_phone, topic=topic,
                             data={"request_id": req.id})]
    return []


def _staff_note(users: Iterable[User | None], req: LabRequest, subject_id: str, body_id: str,
                topic: str, **params: Any) -> list[Notification]:
    out = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        values = {"purpose": req.purpose, "requester": req.requester_name,
                  "url": link(f"/lab/requests/{req.id}"), **params, "number": req.number}
        with in_language(user.locale):
            values["when"] = _when(req)
            subject = _(subject_id, **values)
            body = _(body_id, **values)
        out.append(_to_user(user, subject, body, topic, request_id=req.id))
    return out


def submitted(session: Session, req: LabRequest, lab: str, skipped: int) -> list[Notification]:
    notes = _requester_note(
        session, req, N_("Lab request %(number)s received"),
        N_("Your request %(number)s to use %(lab)s (%(purpose)s, %(when)s) has been received "
        "and waits for the approval of Ka. BPTI.\n\nFollow it at %(url)s"),
        "lab.submitted", lab=lab)
    extra = ""
    if skipped:
        extra = _(" (%(n)d session(s) left out: the lab is taken then)", n=skipped)
    notes += _staff_note(
        people.heads(session), req, N_("New lab request %(number)s to approve"),
        N_("%(requester)s asks to use %(lab)s for %(purpose)s, %(when)s%(extra)s.\n\n"
        "Approve or reject it at %(url)s"),
        "lab.to_approve", lab=lab, extra=extra)
    return notes


def approved(session: Session, req: LabRequest, lab: str) -> list[Notification]:
    return _requester_note(
        session, req, N_("Lab request %(number)s approved"),
        N_("Ka. BPTI approved your request %(number)s: %(lab)s is booked for %(purpose)s, "
        "%(when)s. BPTI staff will prepare the lab.\n\nDetails: %(url)s"),
        "lab.approved", lab=lab)


def rejected(session: Session, req: LabRequest, lab: str, reason: str) -> list[Notification]:
    return _requester_note(
        session, req, N_("Lab request %(number)s rejected"),
        N_("Ka. BPTI could not approve your request %(number)s for %(lab)s (%(when)s).\n"
        "Reason: %(reason)s\n\nDetails: %(url)s"),
        "lab.rejected", lab=lab, reason=reason)


def delegated(session: Session, req: LabRequest, lab: str) -> list[Notification]:
    return _staff_note(
        [people.kabag_yansi(session)], req, N_("Prepare %(lab)s for %(number)s"),
        N_("Ka. BPTI delegated lab request %(number)s to you: %(lab)s for %(purpose)s "
        "(%(requester)s), %(when)s.\nAssign the preparation to a staff member at %(url)s"),
        "lab.delegated", lab=lab)


def assigned(session: Session, req: LabRequest, lab: str) -> list[Notification]:
    assignees = [people.user(session, req.assignee_id)]
    assignees += [people.user(session, i.assignee_id) for i in req.checklist]
    items = "\n".join(f"- {i.label}" for i in req.checklist)
    return _staff_note(
        assignees, req, N_("Preparation of %(lab)s for %(number)s"),
        N_("You prepare %(lab)s for %(purpose)s (%(requester)s), %(when)s.\n"
        "Checklist:\n%(items)s\n\nTick the items at %(url)s"),
        "lab.assigned", lab=lab, items=items)


def ready(session: Session, req: LabRequest, lab: str) -> list[Notification]:
    notes = _requester_note(
        session, req, N_("%(lab)s is ready for %(number)s"),
        N_("BPTI has prepared %(lab)s for %(purpose)s, %(when)s. Please come to the lab on "
        "time; BPTI staff will check you in.\n\nDetails: %(url)s"),
        "lab.ready", lab=lab)
    notes += _staff_note(
        [people.kabag_yansi(session)], req, N_("%(lab)s is ready for %(number)s"),
        N_("The preparation of %(lab)s for %(number)s (%(purpose)s, %(when)s) is complete."),
        "lab.ready_staff", lab=lab)
    return notes


def cancelled(session: Session, req: LabRequest, lab: str, reason: str,
              actor: Any, was: str) -> list[Notification]:
    notes = []
    if getattr(actor, "id", None) != req.requester_id:
        notes += _requester_note(
            session, req, N_("Lab request %(number)s cancelled"),
            N_("Your request %(number)s for %(lab)s (%(when)s) was cancelled.\n"
            "Reason: %(reason)s\n\nDetails: %(url)s"),
            "lab.cancelled", lab=lab, reason=reason)
    involved = [people.user(session, req.coordinator_id), people.user(session, req.assignee_id)]
    if was != "submitted":
        involved += list(people.heads(session))
    involved = [u for u in involved if u is not None and u.id != getattr(actor, "id", None)]
    notes += _staff_note(
        involved, req, N_("Lab request %(number)s cancelled"),
        N_("Lab request %(number)s (%(lab)s, %(purpose)s, %(when)s) was cancelled; the lab is "
        "free again.\nReason: %(reason)s"),
        "lab.cancelled_staff", lab=lab, reason=reason)
    return notes


def occurrence_cancelled(session: Session, req: LabRequest, occ: Occurrence, lab: str,
                         reason: str) -> list[Notification]:
    day = local(occ.starts_at).strftime("%d-%m-%Y %H:%M")
    return _requester_note(
        session, req, N_("One session of %(number)s cancelled"),
        N_("The session of %(day)s of your booking %(number)s (%(lab)s) was cancelled.\n"
        "Reason: %(reason)s\n\nDetails: %(url)s"),
        "lab.occurrence_cancelled", lab=lab, day=day, reason=reason)


def occurrence_moved(session: Session, req: LabRequest, was: Any, occ: Occurrence, lab: str,
                     reason: str) -> list[Notification]:
    old = local(was).strftime("%d-%m-%Y %H:%M")
    new = f"{local(occ.starts_at):%d-%m-%Y %H:%M}-{local(occ.ends_at):%H:%M}"
    notes = _requester_note(
        session, req, N_("A session of %(number)s was moved"),
        N_("The session of %(old)s of your booking %(number)s (%(lab)s) was moved to "
           "%(new)s.\nReason: %(reason)s\n\nDetails: %(url)s"),
        "lab.occurrence_moved", lab=lab, old=old, new=new, reason=reason)
    notes += _staff_note(
        [people.user(session, req.assignee_id)], req, N_("A session of %(number)s was moved"),
        N_("%(lab)s, %(purpose)s: the session of %(old)s is now %(new)s."),
        "lab.occurrence_moved_staff", lab=lab, old=old, new=new)
    return notes


def reminder(session: Session, req: LabRequest, occ: Occurrence, lab: str) -> list[Notification]:
    day = local(occ.starts_at).strftime("%d-%m-%Y %H:%M")
    notes = _requester_note(
        session, req, N_("Reminder: %(lab)s on %(day)s"),
        N_("Reminder: %(lab)s is booked for you on %(day)s (%(purpose)s, %(number)s).\n\n"
        "Details: %(url)s"),
        "lab.reminder", lab=lab, day=day)
    notes += _staff_note(
        [people.user(session, req.assignee_id)], req, N_("Reminder: %(lab)s on %(day)s"),
        N_("%(lab)s is booked on %(day)s for %(purpose)s (%(requester)s, %(number)s)."),
        "lab.reminder_staff", lab=lab, day=day)
    return notes


def checked_out(session: Session, req: LabRequest, occ: Occurrence,
                lab: str) -> list[Notification]:
    day = local(occ.starts_at).strftime("%d-%m-%Y")
    return _requester_note(
        session, req, N_("Thank you for using %(lab)s"),
        N_("Your session of %(day)s in %(lab)s (%(number)s) is checked out. "
        "Thank you for using the ICT lab.\n\nDetails: %(url)s"),
        "lab.checked_out", lab=lab, day=day)


def repair_to_asset_office(session: Session, repair: Repair, lab: str, email: str,
                           actor: Any) -> list[Notification]:
    from core.instance import ruang

    with in_language(ruang().settings.default_locale):
        kind = _("replacement") if repair.replace else _("repair")
        subject = _("Request for %(kind)s of PC %(asset)s (%(number)s)", kind=kind,
                    asset=repair.asset_number, number=repair.number)
        body = _(
            "Dear Biro Aset,\n\nBPTI asks for the %(kind)s of a lab PC.\n\n"
            "Number: %(number)s\nAsset number: %(asset)s\nHost name: %(host)s\n"
            "Location: %(lab)s, seat %(seat)s\nProblem: %(problem)s\n\n"
            "Please reply to this message quoting %(number)s.\n\n%(sender)s\nBPTI",
            kind=kind, number=repair.number, asset=repair.asset_number,
            host=repair.hostname or "-", lab=lab, seat=repair.seat_label or "-",
            problem=repair.problem, sender=getattr(actor, "display_name", "") or "BPTI")
    return [Notification(subject=subject, body=body, email=email, topic="lab.repair_sent",
                         data={"repair_id": repair.id, "asset_number": repair.asset_number})]


def repair_done(session: Session, repair: Repair, lab: str) -> list[Notification]:
    reporter = people.user(session, repair.reported_by)
    if reporter is None:
        return []
    with in_language(reporter.locale):
        subject = _("PC %(asset)s is back in service (%(number)s)", asset=repair.asset_number,
                    number=repair.number)
        body = _("The PC %(asset)s at %(lab)s seat %(seat)s you reported is repaired and "
                 "back in service.\n%(resolution)s\n\nDetails: %(url)s",
                 asset=repair.asset_number, lab=lab, seat=repair.seat_label or "-",
                 resolution=repair.resolution, url=link(f"/lab/repairs/{repair.id}"))
    return [_to_user(reporter, subject, body, "lab.repair_done", repair_id=repair.id)]
