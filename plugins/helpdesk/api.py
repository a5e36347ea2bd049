"""JSON endpoints for a WhatsApp gateway or the academic information system.

A gateway that receives "status TIK-..." from a user's WhatsApp asks with the sender's
number (``helpdesk.status``): the answer comes only when that number belongs to the
ticket, and wrong answers are throttled like the portal's. A gateway or another campus
system files complaints with ``helpdesk.file``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel, Field

from core.api.errors import ApiError
from core.contracts import ApiRoute
from core.instance import ruang
from plugins.helpdesk import lookup, service
from plugins.helpdesk.flow import TICKET
from plugins.helpdesk.forms import Filing, FormError, parse


class StatusQuery(BaseModel):
    number: str = Field(min_length=3, max_length=60,
                        description="Ticket number, e.g. TIK-202601-00001")
    contact: str = Field(min_length=3, max_length=254,
                         description="The e-mail or phone the complaint was filed with")


class TicketStatus(BaseModel):
    number: str
    subject: str
    state: str = Field(description="new, forwarded, in_progress, waiting, resolved, closed, "
                                   "reopened")
    state_label: str = Field(description="The state in Indonesian")
    division: str | None
    filed_at: datetime
    updated_at: datetime
    url: str = Field(description="The requester's ticket page (carries its access key)")


class NewComplaint(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    unit: str = Field(default="", max_length=200)
    subject: str = Field(min_length=5, max_length=200)
    description: str = Field(min_length=10, max_length=20000)
    category: str = Field(default="", max_length=40, description="A category code")
    channel: str = Field(default="whatsapp", pattern="^(whatsapp|email|phone|portal)$")


class Filed(BaseModel):
    number: str
    url: str


def _status(ticket: Any) -> TicketStatus:
    from plugins.helpdesk import links

    with _indonesian():
        label = _label(ticket.state)
    return TicketStatus(number=ticket.number, subject=ticket.subject, state=ticket.state,
                        state_label=label, division=ticket.division,
                        filed_at=ticket.created_at, updated_at=ticket.updated_at,
                        url=links.ticket_url(ticket))


def _indonesian() -> Any:
    from flask_babel import force_locale

    return force_locale("id")


def _label(state: str) -> str:
    from flask_babel import gettext

    return str(gettext(TICKET.label(state)))


def ticket_status(user: Any, body: StatusQuery) -> TicketStatus:
    with ruang().db.transaction() as s:
        found = lookup.find(s, body.number, body.contact, f"api:{request.remote_addr or '-'}")
        if found.throttled:
            raise ApiError(429, "throttled", f"too many wrong look-ups; retry in "
                                             f"{found.retry_after} s")
        if found.ticket is None:
            raise ApiError(404, "not_found", "no ticket with that number and contact")
        return _status(found.ticket)


def file_complaint(user: Any, body: NewComplaint) -> tuple[Filed, int]:
    from sqlalchemy import select

    from plugins.helpdesk import links
    from plugins.helpdesk.models import Category

    with ruang().db.session() as s:
        category_id = s.scalar(select(Category.id).where(Category.code == body.category,
                                                         Category.active.is_(True))
                               ) if body.category else None
    data = body.model_dump()
    data.update(category_id=category_id, channel=body.channel)
    try:
        form = parse(Filing, data)
        with service.writing() as (s, _stored):
            ticket = service.file_ticket(s, form, actor=current_user, staff_entry=True,
                                         ip=request.remote_addr or "", source="api",
                                         source_ref=f"token-user:{user.id}")
            return Filed(number=ticket.number, url=links.ticket_url(ticket)), 201
    except FormError as exc:
        detail = "; ".join(f"{k}: {m % p if p else m}" for k, (m, p) in exc.errors.items())
        raise ApiError(422, "invalid", detail) from None
    except service.TicketError as exc:
        raise ApiError(403 if exc.kind == "forbidden" else 400, exc.kind, str(exc)) from None


def routes() -> list[ApiRoute]:
    return [
        ApiRoute("/helpdesk/status", "POST", ticket_status, "helpdesk.status",
                 "A ticket's status, for the number and the e-mail or phone it was filed with",
                 body=StatusQuery, response=TicketStatus),
        ApiRoute("/helpdesk/tickets", "POST", file_complaint, "helpdesk.file",
                 "File a complaint that came through a gateway (staff tokens only)",
                 body=NewComplaint, response=Filed),
    ]
