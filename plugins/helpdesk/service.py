"""The helpdesk's work, callable without HTTP: filing, routing, replies, merging, rating.

Every function runs inside the caller's write transaction (``db.transaction()``), audits
what it changes there, and queues the notifications that go with it, so a change and its
e-mails commit or vanish together. Files are written to disk before the commit; use
:func:`writing` so they are removed again when the transaction fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.roles import Division, Role
from core.audit.service import record as audit
from core.contracts import Complaint
from core.db import utcnow
from core.instance import ruang
from core.records import service as records
from core.workflow.engine import WorkflowError
from plugins.helpdesk import access, attachments, notices, options, search, sla
from plugins.helpdesk.attachments import AttachmentError, CheckedFile, Upload
from plugins.helpdesk.flow import OPEN_STATES, SYSTEM, TICKET, RequesterActor
from plugins.helpdesk.forms import Filing, FormError, parse
from plugins.helpdesk.models import (
    Attachment,
    Category,
    Channel,
    Follower,
    MessageKind,
    Priority,
    Throttle,
    Ticket,
    TicketMessage,
)
from plugins.helpdesk.timeline import system_note

RECORD_CODE = "TIK"
REF_TYPE = "helpdesk_ticket"
STAFF_CHANNELS = (Channel.WALK_IN, Channel.PHONE, Channel.WHATSAPP, Channel.LETTER,
                  Channel.EMAIL, Channel.PORTAL)


class TicketError(ValueError):
    """A request about a ticket was refused; ``kind`` tells views how to answer."""

    def __init__(self, message: str, kind: str = "invalid", **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.kind = kind  # "invalid", "forbidden", "not_found", "conflict", "throttled"


# -- transactions with files -----------------------------------------------------------------


@contextmanager
def writing() -> Iterator[tuple[Session, list[str]]]:
    """A write transaction and the list of files stored in it, removed if it fails."""
    r = ruang()
    stored: list[str] = []
    try:
        with r.db.transaction() as session:
            yield session, stored
    except BaseException:
        attachments.remove(r.settings.instance, stored)
        raise


def check_files(session: Session, uploads: Sequence[Upload]) -> list[CheckedFile]:
    max_mb = int(options.get(session, "helpdesk.max_file_mb"))
    max_files = int(options.get(session, "helpdesk.max_files"))
    try:
        return attachments.check_all(uploads, max_bytes=max_mb * 1024 * 1024,
                                     max_files=max_files)
    except AttachmentError as exc:
        errors = {("files" if i == 0 else f"files.{i}"): problem
                  for i, problem in enumerate(exc.problems)}
        raise FormError(errors) from None


def _save_files(session: Session, ticket: Ticket, files: Sequence[CheckedFile],
                stored: list[str], *, message_id: int | None = None, internal: bool = False,
                uploader: int | None = None) -> list[Attachment]:
    instance = ruang().settings.instance
    out = []
    for f in files:
        name = attachments.store(instance, f.data)
        stored.append(name)
        att = Attachment(ticket_id=ticket.id, message_id=message_id, filename=f.filename,
                         content_type=f.content_type, size=f.size, sha256=f.sha256,
                         storage_name=name, internal=internal, uploaded_by=uploader)
        session.add(att)
        out.append(att)
    session.flush()
    return out


# -- reading --------------------------------------------------------------------------------


def by_number(session: Session, number: str) -> Ticket | None:
    number = (number or "").strip().upper()
    if not number or len(number) > 60:
        return None
    return session.scalar(select(Ticket).where(Ticket.number == number))


def follower_user_ids(session: Session, ticket: Ticket) -> set[int]:
    return {uid for uid in session.scalars(select(Follower.user_id).where(
        Follower.ticket_id == ticket.id, Follower.user_id.is_not(None))) if uid is not None}


def visible(session: Session, user: Any, number: str) -> Ticket:
    """The ticket ``number`` if ``user`` may see it; :class:`TicketError` ``not_found`` else
    (the same answer whether it exists or not)."""
    ticket = by_number(session, number)
    if ticket is None or not access.can_view(user, ticket, follower_user_ids(session, ticket)):
        raise TicketError("No ticket %(number)s.", "not_found", number=number)
    return ticket


def categories(session: Session, *, active_only: bool = True) -> list[Category]:
    stmt = select(Category).order_by(Category.position, Category.name)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return list(session.scalars(stmt))


def staff_of(session: Session, division: str | None) -> list[User]:
    """Active staff who may be assigned a ticket of ``division``."""
    if not division:
        return []
    return list(session.scalars(select(User).where(
        User.role == Role.STAFF.value, User.division == division, User.active.is_(True))
        .order_by(User.full_name, User.username)))


# -- throttling ------------------------------------------------------------------------------


def throttled(session: Session, key: str, limit: int, window_s: int,
              now: datetime | None = None) -> int:
    """Seconds to wait when ``key`` was counted ``limit`` times in the window, else 0."""
    now = now or utcnow()
    since = now - timedelta(seconds=window_s)
    count, first = session.execute(select(func.count(), func.min(Throttle.at)).where(
        Throttle.key == key, Throttle.at >= since)).one()
    if count < limit or first is None:
        return 0
    return max(int((first + timedelta(seconds=window_s) - now).total_seconds()) + 1, 1)


def count_attempt(session: Session, key: str, now: datetime | None = None) -> None:
    session.add(Throttle(key=key[:160], at=now or utcnow()))


def purge_throttle(session: Session, now: datetime | None = None) -> int:
    from sqlalchemy import delete

    cutoff = (now or utcnow()) - timedelta(days=2)
    result = session.execute(delete(Throttle).where(Throttle.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# -- filing ------------------------------------------------------------------------------------


def _place(session: Session, lab_id: int | None, seat_label: str = "",
           seat_id: int | None = None) -> tuple[int | None, int | None, int | None]:
    """(lab, seat, PC at the seat) checked against the core's rooms registry."""
    from core.rooms import service as rooms
    from core.rooms.models import Lab, Seat

    if lab_id is None:
        if seat_label or seat_id:
            raise FormError.one("lab_id", "choose the lab of the seat")
        return None, None, None
    lab = session.get(Lab, lab_id)
    if lab is None or not lab.active:
        raise FormError.one("lab_id", "no such lab")
    seat = None
    if seat_id is not None:
        seat = session.get(Seat, seat_id)
        if seat is None or seat.lab_id != lab.id:
            raise FormError.one("seat_label", "no such seat in this lab")
    elif seat_label:
        seat = rooms.seat_by_label(session, lab.id, seat_label)
        if seat is None:
            raise FormError.one("seat_label", "lab %(lab)s has no seat %(seat)s",
                                lab=lab.code, seat=seat_label)
    device = rooms.device_at(session, seat.id) if seat is not None else None
    return lab.id, (seat.id if seat else None), (device.id if device else None)


def _category(session: Session, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = session.get(Category, category_id)
    if category is None or not category.active:
        raise FormError.one("category_id", "no such category")
    return category


def _actor_locale(actor: Any) -> str:
    locale = getattr(actor, "locale", None)
    if locale in ("id", "en"):
        return str(locale)
    from flask import has_request_context

    if has_request_context():
        from flask_babel import get_locale

        current = get_locale()
        if current is not None and current.language in ("id", "en"):
            return str(current.language)
    return ruang().settings.default_locale


def file_ticket(session: Session, form: Filing, *, actor: Any = None,
                uploads: Sequence[Upload] = (), stored: list[str] | None = None,
                staff_entry: bool = False, ip: str = "", locale: str | None = None,
                source: str = "", source_ref: str = "") -> Ticket:
    """File a complaint and give it its ticket number; returns the new ticket.

    ``staff_entry`` is YANSI staff typing in a complaint that came another way (walk-in,
    phone, WhatsApp, letter, e-mail): the channel is recorded, the requester may be an
    existing account. Otherwise it comes from the portal, from ``actor`` (``None``: a
    guest, throttled by ``ip``).
    """
    stored = stored if stored is not None else []
    now = utcnow()
    signed_in = bool(actor is not None and getattr(actor, "is_authenticated", False))
    owner: User | None = None
    if staff_entry:
        if not access.is_staff(actor):
            raise TicketError("Only BPTI staff enter complaints for others.", "forbidden")
        channel = form.channel
        if form.requester_username:
            owner = session.scalar(select(User).where(
                func.lower(User.username) == form.requester_username.lower()))
            if owner is None:
                raise FormError.one("requester_username", "no account with that user name")
    else:
        channel = Channel.PORTAL
        owner = actor if signed_in else None
    if channel == Channel.SYSTEM and not source:
        raise FormError.one("channel", "is not one of the choices")
    if not signed_in and not staff_entry and ip:
        window = int(options.get(session, "helpdesk.lookup_window_s"))
        limit = int(options.get(session, "helpdesk.guest_max_tickets"))
        wait = throttled(session, f"file:{ip}", limit, window, now)
        if wait:
            raise TicketError("Too many complaints from your address; try again in "
                              "%(seconds)s seconds.", "throttled", seconds=wait)
        count_attempt(session, f"file:{ip}", now)
    category = _category(session, form.category_id)
    lab_id, seat_id, device_id = _place(session, form.lab_id, form.seat_label)
    files = check_files(session, uploads)
    priority = (form.priority.value if (staff_entry and form.priority) else
                (category.default_priority if category else Priority.NORMAL.value))
    ticket = Ticket(
        number=f"pending-{now.timestamp()}-{id(form)}", subject=form.subject,
        description=form.description, priority=priority, channel=channel.value,
        category_id=category.id if category else None,
        created_by=owner.id if owner is not None else None,
        entered_by=getattr(actor, "id", None) if staff_entry else None,
        requester_name=form.name, requester_email=form.email, requester_phone=form.phone,
        requester_unit=form.unit or (getattr(owner, "unit", "") or ""),
        locale=locale or getattr(owner, "locale", None) or (
            ruang().settings.default_locale if staff_entry else _actor_locale(actor)),
        lab_id=lab_id, seat_id=seat_id, device_id=device_id, source=source,
        source_ref=source_ref, created_at=now, updated_at=now, state=TICKET.initial,
    )
    session.add(ticket)
    session.flush()
    issued = records.issue(session, RECORD_CODE, ref_type=REF_TYPE, ref_id=ticket.id,
                           actor=actor if signed_in else None, at=now)
    ticket.number = issued.number
    starter = actor if signed_in else RequesterActor(id=None, display_name=form.name,
                                                     username=f"pelapor:{issued.number}")
    TICKET.start(session, ticket, starter)
    sla.set_targets(session, ticket)
    _save_files(session, ticket, files, stored, uploader=getattr(actor, "id", None))
    search.index_ticket(session, ticket)
    audit(session, "helpdesk.file", actor=actor if signed_in else form.name,
          object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, "channel": channel.value, "ip": ip,
                   "category": category.code if category else None,
                   "entered_by": ticket.entered_by, "files": len(files)})
    notices.filed(session, ticket)
    if category is not None and category.auto_forward and category.division:
        forward(session, ticket, category.division, SYSTEM,
                comment=f"Kategori {category.name}")
    else:
        notices.triage(session, ticket)
    return ticket


def file_complaint(session: Session, complaint: Complaint) -> str:
    """A complaint filed by another plugin through ``ruang_file_complaint``; returns the
    ticket number. A PC named as broken is marked faulty in the rooms registry."""
    from core.rooms.models import Device, Seat

    reporter = session.get(User, complaint.reporter_id) if complaint.reporter_id else None
    category_id = None
    if complaint.category:
        category_id = session.scalar(select(Category.id).where(
            Category.code == complaint.category, Category.active.is_(True)))
    seat_id, lab_id = complaint.seat_id, complaint.lab_id
    device_id = complaint.device_id
    if device_id is not None and seat_id is None:
        device = session.get(Device, device_id)
        seat_id = device.seat_id if device is not None else None
    if seat_id is not None and lab_id is None:
        seat = session.get(Seat, seat_id)
        lab_id = seat.lab_id if seat is not None else None
    name = complaint.name or (reporter.display_name if reporter else "") or complaint.source
    email = complaint.email or (reporter.email if reporter else "")
    phone = complaint.phone or (reporter.phone if reporter else "")
    priority = complaint.priority if complaint.priority in {p.value for p in Priority} else None
    data = {"name": name, "email": email, "phone": phone, "subject": complaint.subject,
            "description": complaint.description, "category_id": category_id,
            "channel": Channel.SYSTEM, "priority": priority}
    form = parse(Filing, data)
    ticket = file_ticket(session, form, actor=SYSTEM, staff_entry=True,
                         source=complaint.source, source_ref=complaint.source_ref,
                         locale=getattr(reporter, "locale", None) or None)
    if reporter is not None:
        ticket.created_by = reporter.id
    if lab_id is not None:
        ticket.lab_id, ticket.seat_id = lab_id, seat_id
        if device_id is None and seat_id is not None:
            from core.rooms.service import device_at

            found = device_at(session, seat_id)
            device_id = found.id if found else None
        ticket.device_id = device_id
    system_note(session, ticket, "filed_by_plugin", source=complaint.source,
                ref=complaint.source_ref or "-")
    if complaint.device_faulty and ticket.device_id is not None:
        _set_device(session, ticket, "faulty", SYSTEM)
    return ticket.number


# -- routing ----------------------------------------------------------------------------------


def _touch(ticket: Ticket, now: datetime | None = None) -> None:
    ticket.updated_at = now or utcnow()


def forward(session: Session, ticket: Ticket, division: str, actor: Any, *,
            comment: str = "", assignee_id: int | None = None) -> None:
    """Kabag. YANSI sends the ticket to the division that should solve it."""
    if division not in {d.value for d in Division}:
        raise FormError.one("division", "is not one of the choices")
    if actor is not SYSTEM and not access.may_forward(actor, ticket):
        raise TicketError("Only Kabag. YANSI, YANSI staff or the head of the ticket's "
                          "division may forward it.", "forbidden")
    if ticket.merged_into_id is not None:
        raise TicketError("This ticket was merged into another one.", "conflict")
    assignee = None
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or assignee not in staff_of(session, division):
            raise FormError.one("assignee_id", "must be staff of %(division)s",
                                division=division)
    before = ticket.division
    ticket.division = division
    if assignee is not None:
        ticket.assignee_id = assignee.id
    elif before != division:
        ticket.assignee_id = None
    ticket.forwarded_at = utcnow()
    TICKET.apply(session, ticket, "forward", actor,
                 comment or f"{before or '-'} → {division}")
    _touch(ticket)
    if assignee is not None:
        system_note(session, ticket, "assigned", name=assignee.display_name)
        notices.assigned(session, ticket, assignee, getattr(actor, "id", None))


def assign(session: Session, ticket: Ticket, assignee_id: int | None, actor: Any) -> None:
    """Give the ticket to one person of its division (or to nobody)."""
    takes_it = assignee_id is not None and assignee_id == getattr(actor, "id", None)
    allowed = access.may_assign(actor, ticket) or (takes_it and access.may_work(actor, ticket))
    if not allowed:
        raise TicketError("Only the head of the division or the helpdesk assigns tickets.",
                          "forbidden")
    if not ticket.is_open:
        raise TicketError("A resolved or closed ticket is not assigned.", "conflict")
    if assignee_id is None:
        if ticket.assignee_id is None:
            return
        old: int | None = ticket.assignee_id
        ticket.assignee_id = None
        system_note(session, ticket, "unassigned")
        audit(session, "helpdesk.assign", actor=actor, object_type=REF_TYPE,
              object_id=ticket.id, details={"number": ticket.number, "from": old, "to": None})
        _touch(ticket)
        return
    user = session.get(User, assignee_id)
    division = ticket.division or (getattr(user, "division", None) if user else None)
    if user is None or user not in staff_of(session, division):
        raise FormError.one("assignee_id", "must be staff of %(division)s",
                            division=division or "-")
    if ticket.assignee_id == user.id:
        return
    before = ticket.assignee_id
    if ticket.division is None:
        # Assigning an unrouted ticket routes it to the assignee's division.
        forward(session, ticket, str(division), actor, assignee_id=user.id)
        return
    ticket.assignee_id = user.id
    system_note(session, ticket, "assigned", name=user.display_name)
    audit(session, "helpdesk.assign", actor=actor, object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, "from": before, "to": user.id})
    notices.assigned(session, ticket, user, getattr(actor, "id", None))
    _touch(ticket)


# -- moving on ----------------------------------------------------------------------------------


REQUESTER_ACTIONS = frozenset({"resume", "reopen", "close"})


def as_requester(user: Any, ticket: Ticket) -> RequesterActor:
    """The actor for a requester's own action: their account's id, or none for a guest."""
    if user is not None and getattr(user, "is_authenticated", False):
        return RequesterActor(id=user.id, display_name=user.display_name,
                              username=user.username)
    name = ticket.requester_name or ticket.requester_email or ticket.requester_phone
    return RequesterActor(id=None, display_name=name, username=f"pelapor:{ticket.number}")


def transition(session: Session, ticket: Ticket, action: str, actor: Any, comment: str = "",
               *, device_working: bool = False, _merging: bool = False) -> None:
    """Take a workflow action on the ticket, with its effects on service levels.

    ``actor`` is staff, :data:`flow.SYSTEM`, or a :class:`RequesterActor` (from
    :func:`as_requester`) for the requester's own resume/reopen/close.
    """
    now = utcnow()
    is_requester = isinstance(actor, RequesterActor)
    if is_requester:
        if action not in REQUESTER_ACTIONS:
            raise TicketError("You cannot do that on your ticket.", "forbidden")
    elif actor is not SYSTEM:
        if action == "forward":
            raise TicketError("Forward with a division chosen.", "invalid")
        if action == "merge" and not _merging:
            raise TicketError("Merge with the ticket to merge into.", "invalid")
        if not access.may_work(actor, ticket):
            raise TicketError("This ticket belongs to another division.", "forbidden")
    if action == "close" and is_requester and ticket.state != "resolved":
        raise TicketError("Only a resolved ticket can be closed by you.", "conflict")
    TICKET.apply(session, ticket, action, actor, comment)
    staff_actor = not is_requester and actor is not SYSTEM
    if action == "wait":
        sla.mark_first_response(ticket, now)
        sla.pause(ticket, now)
    elif action == "resume":
        sla.resume(session, ticket, now)
    elif action == "begin":
        if ticket.assignee_id is None and staff_actor and getattr(actor, "division", None) == \
                ticket.division and access.is_staff(actor):
            ticket.assignee_id = actor.id
            system_note(session, ticket, "assigned", name=actor.display_name)
    elif action == "resolve":
        if staff_actor:
            sla.mark_first_response(ticket, now)
        sla.mark_resolved(ticket, now)
        if device_working and ticket.device_id is not None:
            _set_device(session, ticket, "working", actor)
    elif action in ("close", "cancel", "merge"):
        ticket.closed_at = now
        ticket.paused_at = None
        if ticket.resolved_at is None and action == "close":
            ticket.resolved_at = now
    elif action == "reopen":
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.closed_at = None
        ticket.rating, ticket.rated_at, ticket.rating_comment = None, None, ""
        ticket.escalated_at = None
        sla.set_targets(session, ticket, since=now)
    _touch(ticket, now)


def reply(session: Session, ticket: Ticket, actor: Any, body: str, *,
          uploads: Sequence[Upload] = (), stored: list[str] | None = None,
          internal: bool = False) -> TicketMessage:
    """A staff member's public reply (sent to the requester) or internal note."""
    if not access.may_work(actor, ticket):
        raise TicketError("This ticket belongs to another division.", "forbidden")
    body = body.strip()
    if not body:
        raise FormError.one("body", "required")
    files = check_files(session, uploads)
    now = utcnow()
    msg = TicketMessage(ticket_id=ticket.id, kind=(MessageKind.INTERNAL if internal
                                                   else MessageKind.PUBLIC).value,
                        author_id=actor.id, author_name=actor.display_name, body=body,
                        created_at=now)
    session.add(msg)
    session.flush()
    _save_files(session, ticket, files, stored if stored is not None else [],
                message_id=msg.id, internal=internal, uploader=actor.id)
    search.add(session, ticket.id, search.terms(body))
    audit(session, "helpdesk.note" if internal else "helpdesk.reply", actor=actor,
          object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, "message": msg.id, "files": len(files)})
    if not internal:
        sla.mark_first_response(ticket, now)
        notices.public_reply(session, ticket, actor.display_name, body)
    _touch(ticket, now)
    return msg


def requester_reply(session: Session, ticket: Ticket, user: Any, body: str, *,
                    uploads: Sequence[Upload] = (), stored: list[str] | None = None
                    ) -> TicketMessage:
    """The requester writes on their ticket: it goes on if it waited for them, and it
    reopens if it was resolved. A closed ticket takes no more replies."""
    if ticket.state == "closed":
        raise TicketError("This ticket is closed; file a new complaint if you need more "
                          "help.", "conflict")
    body = body.strip()
    if not body:
        raise FormError.one("body", "required")
    files = check_files(session, uploads)
    actor = as_requester(user, ticket)
    now = utcnow()
    msg = TicketMessage(ticket_id=ticket.id, kind=MessageKind.PUBLIC.value,
                        author_id=actor.id, author_name=actor.display_name,
                        from_requester=True, body=body, created_at=now)
    session.add(msg)
    session.flush()
    _save_files(session, ticket, files, stored if stored is not None else [],
                message_id=msg.id, uploader=actor.id)
    search.add(session, ticket.id, search.terms(body))
    audit(session, "helpdesk.requester_reply", actor=actor, object_type=REF_TYPE,
          object_id=ticket.id, details={"number": ticket.number, "message": msg.id,
                                        "files": len(files)})
    if ticket.state == "waiting":
        transition(session, ticket, "resume", actor)
    elif ticket.state == "resolved":
        transition(session, ticket, "reopen", actor, body[:4000])
    notices.requester_replied(session, ticket, body)
    _touch(ticket, now)
    return msg


def merge(session: Session, duplicate: Ticket, target: Ticket, actor: Any,
          comment: str = "") -> None:
    """Close ``duplicate`` into ``target``; its requester follows ``target`` from now on."""
    if duplicate.id == target.id:
        raise FormError.one("target", "a ticket cannot be merged into itself")
    if not (access.may_work(actor, duplicate) and access.may_work(actor, target)):
        raise TicketError("You may not work on both tickets.", "forbidden")
    if target.merged_into_id is not None or target.state == "closed":
        raise FormError.one("target", "ticket %(number)s is closed; reopen it first",
                            number=target.number)
    if duplicate.state not in OPEN_STATES:
        raise TicketError("Only an open ticket can be merged.", "conflict")
    have = {(f.email.lower(), f.phone) for f in session.scalars(
        select(Follower).where(Follower.ticket_id == target.id))}
    have.add((target.requester_email.lower(), target.requester_phone))
    people = [(duplicate.requester_name, duplicate.requester_email, duplicate.requester_phone,
               duplicate.created_by, duplicate.locale)]
    people += [(f.name, f.email, f.phone, f.user_id, f.locale) for f in session.scalars(
        select(Follower).where(Follower.ticket_id == duplicate.id))]
    for name, email, phone, user_id, locale in people:
        if (email.lower(), phone) in have and user_id in (None, target.created_by):
            continue
        session.add(Follower(ticket_id=target.id, name=name, email=email, phone=phone,
                             user_id=user_id, locale=locale, from_ticket_id=duplicate.id))
        have.add((email.lower(), phone))
    duplicate.merged_into_id = target.id
    system_note(session, duplicate, "merged_into", number=target.number)
    system_note(session, target, "merged_from", number=duplicate.number)
    note = comment.strip() or f"Digabung ke {target.number} / merged into {target.number}"
    transition(session, duplicate, "merge", actor, note, _merging=True)
    audit(session, "helpdesk.merge", actor=actor, object_type=REF_TYPE, object_id=duplicate.id,
          details={"number": duplicate.number, "into": target.number})
    search.add(session, target.id, search.terms(duplicate.number))
    _touch(target)


# -- details -------------------------------------------------------------------------------------


def _set_device(session: Session, ticket: Ticket, status: str, actor: Any) -> None:
    from core.rooms.models import Device
    from core.rooms.service import set_device_status

    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    if device is None:
        return
    reason = f"Tiket {ticket.number}: {ticket.subject}"[:500]
    if set_device_status(session, device, status, actor=actor, reason=reason):
        system_note(session, ticket, "device_status", asset=device.asset_number, status=status)


def place_label(session: Session, ticket: Ticket) -> str:
    from core.rooms.models import Device, Lab, Seat

    parts = []
    lab = session.get(Lab, ticket.lab_id) if ticket.lab_id else None
    if lab is not None:
        parts.append(f"{lab.code} {lab.name}")
    seat = session.get(Seat, ticket.seat_id) if ticket.seat_id else None
    if seat is not None:
        parts.append(seat.label)
    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    if device is not None:
        parts.append(f"PC {device.asset_number}"
                     + (f" ({device.hostname})" if device.hostname else ""))
    return " / ".join(parts)


def seat_label_of(session: Session, ticket: Ticket) -> str:
    from core.rooms.models import Seat

    seat = session.get(Seat, ticket.seat_id) if ticket.seat_id else None
    return seat.label if seat is not None else ""


def link_place(session: Session, ticket: Ticket, actor: Any, lab_id: int | None,
               seat_label: str = "", *, device_status: str = "") -> None:
    """Link the ticket to a lab, or one PC of it; optionally mark that PC faulty (or
    working again, once it is repaired)."""
    if not access.may_work(actor, ticket):
        raise TicketError("This ticket belongs to another division.", "forbidden")
    lab, seat, device = _place(session, lab_id, seat_label.strip().upper())
    ticket.lab_id, ticket.seat_id, ticket.device_id = lab, seat, device
    session.flush()
    label = place_label(session, ticket) or "-"
    system_note(session, ticket, "linked", place=label)
    audit(session, "helpdesk.link", actor=actor, object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, "lab_id": lab, "seat_id": seat,
                   "device_id": device})
    if device_status:
        if device is None:
            raise FormError.one("device_status", "choose a seat with a PC first")
        _set_device(session, ticket, device_status, actor)
    _touch(ticket)


def update(session: Session, ticket: Ticket, actor: Any, *, subject: str, priority: str,
           category_id: int | None) -> None:
    """Correct subject, priority or category; service-level targets follow."""
    if not access.may_work(actor, ticket):
        raise TicketError("This ticket belongs to another division.", "forbidden")
    category = _category(session, category_id) if category_id != ticket.category_id else None
    changes: dict[str, list[Any]] = {}
    if subject != ticket.subject:
        changes["subject"] = [ticket.subject, subject]
        ticket.subject = subject
    if priority != ticket.priority:
        changes["priority"] = [ticket.priority, priority]
        ticket.priority = priority
    if category_id != ticket.category_id:
        changes["category"] = [ticket.category_id, category_id]
        ticket.category_id = category.id if category else None
    if not changes:
        return
    if "priority" in changes or "category" in changes:
        sla.set_targets(session, ticket)
    system_note(session, ticket, "changed", fields=", ".join(sorted(changes)))
    audit(session, "helpdesk.update", actor=actor, object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, **changes})
    search.index_ticket(session, ticket)
    _touch(ticket)


def rate(session: Session, ticket: Ticket, user: Any, score: int, comment: str = "") -> None:
    """The requester's satisfaction rating (1-5) of a resolved or closed ticket."""
    if ticket.state not in ("resolved", "closed") or ticket.merged_into_id is not None:
        raise TicketError("A ticket is rated once it is resolved.", "conflict")
    if not 1 <= score <= 5:
        raise FormError.one("score", "must be between %(lo)s and %(hi)s", lo=1, hi=5)
    actor = as_requester(user, ticket)
    before = ticket.rating
    ticket.rating = score
    ticket.rating_comment = comment.strip()[:2000] or ticket.rating_comment
    ticket.rated_at = utcnow()
    audit(session, "helpdesk.rate", actor=actor, object_type=REF_TYPE, object_id=ticket.id,
          details={"number": ticket.number, "score": score, "before": before})


def auto_close(session: Session, now: datetime | None = None) -> list[str]:
    """Close tickets resolved ``helpdesk.auto_close_days`` ago that nobody reopened."""
    days = int(options.get(session, "helpdesk.auto_close_days"))
    if days <= 0:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    due = session.scalars(select(Ticket).where(Ticket.state == "resolved",
                                               Ticket.resolved_at <= cutoff)
                          .order_by(Ticket.id).limit(500)).all()
    closed = []
    for ticket in due:
        try:
            transition(session, ticket, "close", SYSTEM,
                       f"Ditutup otomatis setelah {days} hari tanpa dibuka kembali.")
        except WorkflowError:
            continue
        closed.append(ticket.number)
    return closed
