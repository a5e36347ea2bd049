"""The support portal: file a complaint, check its status, reply, reopen, rate.

Open to guests. A guest reaches a ticket only by proving its e-mail or phone (or through
the link in their e-mail); the proof is kept in their session for that ticket only.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.accounts.access import public, require
from core.instance import ruang
from core.records.service import as_local
from core.workflow.engine import WorkflowError
from plugins.helpdesk import access, attachments, links, lookup, options, service, timeline, web
from plugins.helpdesk.flow import TICKET
from plugins.helpdesk.forms import Filing, FormError, Lookup, Rating, Reply, parse
from plugins.helpdesk.models import Attachment, Category, Ticket

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk", template_folder="templates",
               static_folder="static")

GRANTS = "helpdesk_grants"
MAX_GRANTS = 20


@bp.app_template_filter("hd_local")
def _local_filter(moment: Any, fmt: str = "%d-%m-%Y %H:%M") -> str:
    return as_local(moment).strftime(fmt) if moment else "-"


@bp.context_processor
def _globals() -> dict[str, Any]:
    return web.template_globals()


def _grant(ticket: Ticket) -> None:
    grants = [g for g in session.get(GRANTS, []) if g != ticket.id]
    session[GRANTS] = ([ticket.id, *grants])[:MAX_GRANTS]


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


def _ticket_for_requester(db_session: Any, number: str) -> Ticket:
    """The ticket, if the visitor is its requester (account, session proof, or link key)."""
    ticket = service.by_number(db_session, number)
    if ticket is None:
        abort(404)
    followers = service.follower_user_ids(db_session, ticket)
    if _signed_in() and access.is_requester(current_user, ticket, followers):
        return ticket
    if ticket.id in session.get(GRANTS, []):
        return ticket
    key = request.args.get("k", "")
    if key and links.key_matches(ticket, key):
        _grant(ticket)
        return ticket
    if _signed_in() and access.can_view(current_user, ticket, followers):
        abort(redirect(url_for("helpdesk_desk.ticket", number=ticket.number)))
    abort(404)


def _limits() -> dict[str, Any]:
    with ruang().db.session() as s:
        return {"max_mb": int(options.get(s, "helpdesk.max_file_mb")),
                "max_files": int(options.get(s, "helpdesk.max_files")),
                "extensions": attachments.accepted_extensions()}


def _labs() -> list[Any]:
    from core.rooms.service import labs

    with ruang().db.session() as s:
        return labs(s, include_inactive=False)


# -- landing and filing ----------------------------------------------------------------------


@bp.route("/")
@require("helpdesk.file")
def index() -> str:
    mine: list[Ticket] = []
    if _signed_in():
        with ruang().db.session() as s:
            mine = list(s.scalars(select(Ticket).where(access.visible_clause(current_user),
                                                       Ticket.created_by == current_user.id)
                                  .order_by(Ticket.updated_at.desc()).limit(5)))
    return render_template("helpdesk/portal_index.html", mine=mine, wf=TICKET)


def _filing_defaults() -> dict[str, str]:
    if not _signed_in():
        return {}
    return {"name": current_user.display_name, "email": current_user.email or "",
            "phone": current_user.phone or "", "unit": current_user.unit or ""}


@bp.route("/new", methods=["GET", "POST"])
@require("helpdesk.file")
def new() -> Any:
    with ruang().db.session() as s:
        cats = service.categories(s)
    values: dict[str, Any] = {**_filing_defaults(), **request.form.to_dict()}
    if request.method == "GET":
        values.update({k: v for k, v in request.args.items() if k in ("lab_id", "seat_label")})
        return render_template("helpdesk/new.html", categories=cats, values=values, errors={},
                               limits=_limits(), labs=_labs())
    if request.form.get("website"):
        # The honeypot field: people never see it, form-filling robots fill it.
        abort(400, description=_("The form could not be accepted."))
    data = {**request.form.to_dict(), "channel": "portal", "priority": None,
            "requester_username": ""}
    data.pop("csrf_token", None)
    try:
        form = parse(Filing, data)
        with service.writing() as (s, stored):
            ticket = service.file_ticket(s, form, actor=current_user if _signed_in() else None,
                                         uploads=web.uploads(), stored=stored,
                                         ip=web.client_ip())
            number = ticket.number
            _grant(ticket)
    except FormError as exc:
        errors = web.form_errors(exc)
        return render_template("helpdesk/new.html", categories=cats, values=values,
                               errors=errors, summary=web.error_summary(errors),
                               limits=_limits(), labs=_labs()), 400
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return render_template("helpdesk/new.html", categories=cats, values=values,
                               errors={}, summary=[message], limits=_limits(),
                               labs=_labs()), code
    return redirect(url_for(".filed", number=number), code=303)


@bp.route("/filed/<number>")
@public
def filed(number: str) -> str:
    with ruang().db.session() as s:
        ticket = _ticket_for_requester(s, number)
        url = links.ticket_url(ticket)
    return render_template("helpdesk/filed.html", ticket=ticket, url=url)


# -- status look-up ---------------------------------------------------------------------------


@bp.route("/status", methods=["GET", "POST"])
@public
def status() -> Any:
    values = {"number": request.values.get("number", ""), "contact": ""}
    if request.method == "GET":
        return render_template("helpdesk/status.html", values=values, errors={})
    try:
        form = parse(Lookup, request.form.to_dict())
    except FormError as exc:
        errors = web.form_errors(exc)
        return render_template("helpdesk/status.html", values=request.form, errors=errors,
                               summary=web.error_summary(errors)), 400
    with ruang().db.transaction() as s:
        found = lookup.find(s, form.number, form.contact, web.client_ip())
        ticket = found.ticket
    if found.throttled:
        message = _("Too many wrong attempts. Try again in %(seconds)s seconds, or ask the "
                    "helpdesk by phone or WhatsApp.", seconds=found.retry_after)
        resp = render_template("helpdesk/status.html", values=request.form, errors={},
                               summary=[message])
        return resp, 429, {"Retry-After": str(found.retry_after)}
    if ticket is None:
        message = _("No ticket matches that number with that e-mail or phone. Check both "
                    "and try again.")
        return render_template("helpdesk/status.html", values=request.form, errors={},
                               summary=[message]), 404
    _grant(ticket)
    return redirect(url_for(".ticket", number=ticket.number), code=303)


@bp.route("/mine")
@require("helpdesk.file")
def mine() -> Any:
    if not _signed_in():
        return redirect(url_for("accounts.login", next=request.full_path))
    with ruang().db.session() as s:
        rows = list(s.scalars(select(Ticket).where(access.visible_clause(current_user))
                              .where(Ticket.created_by == current_user.id)
                              .order_by(Ticket.updated_at.desc()).limit(200)))
    return render_template("helpdesk/mine.html", tickets=rows, wf=TICKET)


# -- the requester's ticket page --------------------------------------------------------------


def _render_ticket(number: str, errors: dict[str, str] | None = None,
                   summary: list[str] | None = None, code: int = 200) -> Any:
    with ruang().db.session() as s:
        ticket = _ticket_for_requester(s, number)
        if request.args.get("k"):
            # The key did its work; do not leave it in the address bar and history.
            return redirect(url_for(".ticket", number=ticket.number))
        entries = timeline.entries(s, ticket, staff=False)
        files = timeline.first_files(s, ticket, staff=False)
        merged_into = s.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
        place = service.place_label(s, ticket)
        cat = s.get(Category, ticket.category_id) if ticket.category_id else None
    return render_template("helpdesk/ticket_public.html", ticket=ticket, entries=entries,
                           files=files, merged_into=merged_into, wf=TICKET, place=place,
                           category=cat, errors=errors or {}, summary=summary or [],
                           limits=_limits()), code


@bp.route("/t/<number>")
@public
def ticket(number: str) -> Any:
    return _render_ticket(number)


@bp.route("/t/<number>/reply", methods=["POST"])
@public
def reply(number: str) -> Any:
    try:
        form = parse(Reply, request.form.to_dict())
        with service.writing() as (s, stored):
            ticket = _ticket_for_requester(s, number)
            service.requester_reply(s, ticket, current_user, form.body, uploads=web.uploads(),
                                    stored=stored)
    except FormError as exc:
        errors = web.form_errors(exc)
        return _render_ticket(number, errors, web.error_summary(errors), 400)
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return _render_ticket(number, {}, [message], code)
    flash(_("Your reply was sent."), "success")
    return redirect(url_for(".ticket", number=number), code=303)


@bp.route("/t/<number>/action", methods=["POST"])
@public
def action(number: str) -> Any:
    act = request.form.get("action", "")
    comment = request.form.get("comment", "").strip()[:4000]
    if act not in ("reopen", "close"):
        abort(400, description=_("Unknown action."))
    if act == "reopen" and not comment:
        return _render_ticket(number, {"comment": _("required")},
                              [_("Say why the problem is not solved.")], 400)
    try:
        with ruang().db.transaction() as s:
            ticket = _ticket_for_requester(s, number)
            service.transition(s, ticket, act, service.as_requester(current_user, ticket),
                               comment)
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return _render_ticket(number, {}, [message], code)
    except WorkflowError as exc:
        message, code = web.workflow_error(exc)
        return _render_ticket(number, {}, [message], code)
    flash(_("The ticket was reopened.") if act == "reopen" else _("The ticket was closed."),
          "success")
    return redirect(url_for(".ticket", number=number), code=303)


@bp.route("/t/<number>/rate/<int:score>")
@public
def rate_link(number: str, score: int) -> Any:
    """The link in the resolution e-mail: the page sends the rating by itself (one click);
    a GET never changes anything, so mail scanners that follow links rate nothing."""
    if not 1 <= score <= 5:
        abort(404)
    with ruang().db.session() as s:
        ticket = _ticket_for_requester(s, number)
    return render_template("helpdesk/rate.html", ticket=ticket, score=score, auto=True)


@bp.route("/t/<number>/rate", methods=["POST"])
@public
def rate(number: str) -> Any:
    try:
        form = parse(Rating, request.form.to_dict())
        with ruang().db.transaction() as s:
            ticket = _ticket_for_requester(s, number)
            service.rate(s, ticket, current_user, form.score, form.comment)
    except FormError as exc:
        errors = web.form_errors(exc)
        return _render_ticket(number, errors, web.error_summary(errors), 400)
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return _render_ticket(number, {}, [message], code)
    flash(_("Thank you for rating our service."), "success")
    return redirect(url_for(".ticket", number=number), code=303)


@bp.route("/t/<number>/files/<int:att_id>")
@public
def download(number: str, att_id: int) -> Response:
    with ruang().db.session() as s:
        ticket = _ticket_for_requester(s, number)
        att = s.get(Attachment, att_id)
        if att is None or att.ticket_id != ticket.id or att.internal:
            abort(404)
    return web.send_attachment(att)
