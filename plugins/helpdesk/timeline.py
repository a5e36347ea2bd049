"""What happened on a ticket, in order: messages, status changes and the software's notes.

Staff see everything; the requester sees public replies, their own messages, status
changes and the comments written to them (see ``flow.PUBLIC_COMMENT_ACTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.workflow.engine import history
from plugins.helpdesk.flow import PUBLIC_COMMENT_ACTIONS, TICKET, WORKFLOW_NAME
from plugins.helpdesk.models import Attachment, MessageKind, Ticket, TicketMessage

# English sentences of system notes; shown through gettext in the reader's language.
SYSTEM_TEXT: dict[str, str] = {
    "sla_warned": "Service level target near: %(targets)s.",
    "sla_escalated": "Service level breached (%(targets)s); escalated to the head of the "
                     "division.",
    "assigned": "Assigned to %(name)s.",
    "unassigned": "No longer assigned to anyone.",
    "merged_into": "Merged into %(number)s as a duplicate.",
    "merged_from": "Ticket %(number)s was merged into this one.",
    "linked": "Linked to %(place)s.",
    "device_status": "PC %(asset)s marked %(status)s.",
    "changed": "Changed: %(fields)s.",
    "filed_by_plugin": "Filed by %(source)s (%(ref)s).",
}
TARGET_WORDS = {"response": "first response", "resolution": "resolution"}


def system_note(session: Session, ticket: Ticket, event: str, *, at: datetime | None = None,
                **params: Any) -> TicketMessage:
    if event not in SYSTEM_TEXT:
        raise KeyError(f"unknown system note {event!r}")
    shown = dict(params)
    if "targets" in shown:
        shown["targets"] = ", ".join(TARGET_WORDS.get(t, t) for t in shown["targets"])
    msg = TicketMessage(ticket_id=ticket.id, kind=MessageKind.SYSTEM.value,
                        author_name="Sistem Helpdesk", body=SYSTEM_TEXT[event] % shown,
                        event=event, params=params, created_at=at or utcnow())
    session.add(msg)
    return msg


def _tr(text: str, **params: Any) -> str:
    from flask import has_request_context

    if not has_request_context():
        return text % params if params else text
    from flask_babel import gettext

    return str(gettext(text, **params))


def render_system(msg: TicketMessage) -> str:
    """A system note in the reader's language."""
    template = SYSTEM_TEXT.get(msg.event)
    if template is None:
        return msg.body
    params = dict(msg.params or {})
    if "targets" in params:
        params["targets"] = ", ".join(_tr(TARGET_WORDS.get(t, t)) for t in params["targets"])
    if msg.event == "device_status" and "status" in params:
        params["status"] = _tr(str(params["status"]))
    try:
        return _tr(template, **params)
    except (KeyError, TypeError, ValueError):
        return msg.body


@dataclass
class Entry:
    at: datetime
    kind: str  # "public", "internal", "system", "status"
    author: str
    body: str
    from_requester: bool = False
    action: str = ""
    state_label: str = ""
    attachments: list[Attachment] = field(default_factory=list)


def entries(session: Session, ticket: Ticket, *, staff: bool) -> list[Entry]:
    """The ticket's timeline, oldest first, as ``staff`` or as the requester sees it."""
    files: dict[int | None, list[Attachment]] = {}
    stmt = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    for att in session.scalars(stmt):
        if att.internal and not staff:
            continue
        files.setdefault(att.message_id, []).append(att)
    out: list[Entry] = []
    msgs = session.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                           .order_by(TicketMessage.created_at, TicketMessage.id))
    for m in msgs:
        if not staff and m.kind != MessageKind.PUBLIC:
            continue
        body = render_system(m) if m.kind == MessageKind.SYSTEM else m.body
        out.append(Entry(at=m.created_at, kind=m.kind, author=m.author_name, body=body,
                         from_requester=m.from_requester, attachments=files.get(m.id, [])))
    for step in history(session, WORKFLOW_NAME, ticket.id):
        if step.action == "start":
            continue
        comment = step.comment if (staff or step.action in PUBLIC_COMMENT_ACTIONS) else ""
        out.append(Entry(at=step.at, kind="status", author=step.actor_name, body=comment,
                         action=step.action, state_label=_tr(TICKET.label(step.to_state))))
    out.sort(key=lambda e: e.at)
    return out


def first_files(session: Session, ticket: Ticket, *, staff: bool) -> list[Attachment]:
    """Files sent with the complaint itself."""
    stmt = select(Attachment).where(Attachment.ticket_id == ticket.id,
                                    Attachment.message_id.is_(None)).order_by(Attachment.id)
    return [a for a in session.scalars(stmt) if staff or not a.internal]
