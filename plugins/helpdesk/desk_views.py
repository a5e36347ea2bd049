"""The staff desk: queues, search, staff entry, and the ticket page where work happens."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.accounts.models import User
from core.instance import ruang
from core.workflow.engine import WorkflowError
from core.workflow.panel import panel
from plugins.helpdesk import access, options, reports, search, service, sla, timeline, web
from plugins.helpdesk.flow import FORM_ACTIONS, OPEN_STATES, TICKET
from plugins.helpdesk.forms import (
    Assign,
    Filing,
    FormError,
    Forward,
    Link,
    Merge,
    Reply,
    Update,
    parse,
)
from plugins.helpdesk.models import Attachment, CannedReply, Category, Follower, Ticket

bp = Blueprint("helpdesk_desk", __name__, url_prefix="/helpdesk/desk",
               template_folder="templates")

PAGE_SIZE = 50
VIEWS = ("triage", "mine", "division", "open", "breached", "all")


@bp.context_processor
def _globals() -> dict[str, Any]:
    return web.template_globals()


def _staff_only() -> None:
    if not access.is_staff(current_user):
        abort(403)


# -- queues and search --------------------------------------------------------------------------


@dataclasses.dataclass
class Filters:
    view: str = "open"
    q: str = ""
    state: str = ""
    division: str = ""
    category: int | None = None
    priority: str = ""
    channel: str = ""
    lab: int | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any, default_view: str) -> Filters:
        def _int(name: str) -> int | None:
            raw = args.get(name, "")
            return int(raw) if raw.isdigit() else None

        def _date(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        view = args.get("view", default_view)
        return cls(
            view=view if view in VIEWS else default_view, q=args.get("q", "").strip()[:200],
            state=args.get("state", "") if args.get("state", "") in TICKET.states else "",
            division=args.get("division", "") if args.get("division", "") in
            web.template_globals()["division_labels"] else "",
            category=_int("category"),
            priority=args.get("priority", "") if args.get("priority", "") in
            web.PRIORITY_LABELS else "",
            channel=args.get("channel", "") if args.get("channel", "") in
            web.CHANNEL_LABELS else "",
            lab=_int("lab"), start=_date("start"), end=_date("end"),
            page=max(_int("page") or 1, 1),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {**dataclasses.asdict(self), **changes}
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()
                if v not in (None, "", 1) or (k == "page" and v != 1)}


def _query(filters: Filters, user: Any) -> Select[Any]:
    stmt = select(Ticket).where(access.visible_clause(user))
    open_ = Ticket.state.in_(OPEN_STATES)
    view = filters.view
    if view == "triage":
        stmt = stmt.where(open_, Ticket.division.is_(None))
    elif view == "mine":
        stmt = stmt.where(open_, Ticket.assignee_id == user.id)
    elif view == "division":
        stmt = stmt.where(open_, Ticket.division == user.division)
    elif view == "open":
        stmt = stmt.where(open_)
    elif view == "breached":
        stmt = stmt.where(open_, or_(Ticket.response_breached.is_(True),
                                     Ticket.resolution_breached.is_(True),
                                     and_(Ticket.first_responded_at.is_(None),
                                          Ticket.first_response_due < sla.utcnow()),
                                     Ticket.resolution_due < sla.utcnow()))
    if filters.q:
        clause = search.matches(filters.q)
        if clause is not None:
            stmt = stmt.where(clause)
    if filters.state:
        stmt = stmt.where(Ticket.state == filters.state)
    if filters.division:
        stmt = stmt.where(Ticket.division == filters.division)
    if filters.category:
        stmt = stmt.where(Ticket.category_id == filters.category)
    if filters.priority:
        stmt = stmt.where(Ticket.priority == filters.priority)
    if filters.channel:
        stmt = stmt.where(Ticket.channel == filters.channel)
    if filters.lab:
        stmt = stmt.where(Ticket.lab_id == filters.lab)
    tz = sla._tz()
    if filters.start:
        stmt = stmt.where(Ticket.created_at >= datetime.combine(filters.start, time(0), tz))
    if filters.end:
        stmt = stmt.where(Ticket.created_at < datetime.combine(
            filters.end + timedelta(days=1), time(0), tz))
    return stmt


def _names(s: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.display_name for u in s.scalars(select(User).where(User.id.in_(wanted)))}


@bp.route("/")
@require("helpdesk.work")
def queue() -> Any:
    _staff_only()
    default = "triage" if access.is_triager(current_user) else (
        "division" if current_user.division else "mine")
    filters = Filters.from_args(request.args, default)
    with ruang().db.session() as s:
        if filters.q and filters.page == 1:
            exact = service.by_number(s, filters.q)
            if exact is not None and access.can_view(current_user, exact,
                                                     service.follower_user_ids(s, exact)):
                return redirect(url_for(".ticket", number=exact.number))
        stmt = _query(filters, current_user)
        order = (Ticket.created_at.asc() if filters.view == "triage"
                 else Ticket.updated_at.desc())
        rows: list[Ticket] = list(s.scalars(stmt.order_by(order, Ticket.id.desc())
                              .offset((filters.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        counts = {}
        for view in VIEWS:
            if view == "all":
                continue
            if view == "triage" and not access.is_triager(current_user):
                continue
            if view == "division" and not current_user.division:
                continue
            counts[view] = s.scalar(select(func.count()).select_from(
                _query(Filters(view=view), current_user).subquery()))
        names = _names(s, {t.assignee_id for t in rows})
        cats = {c.id: c for c in service.categories(s, active_only=False)}
        from core.rooms.service import labs

        all_labs = labs(s)
    now = sla.utcnow()
    return render_template("helpdesk/queue.html", rows=rows, filters=filters, counts=counts,
                           more=more, names=names, categories=cats, labs=all_labs,
                           due_state=lambda t: sla.due_state(t, now), wf=TICKET,
                           triager=access.is_triager(current_user))


@bp.route("/export.xlsx")
@require("helpdesk.work")
def export() -> Response:
    _staff_only()
    filters = Filters.from_args(request.args, "all")
    with ruang().db.session() as s:
        rows: list[Ticket] = list(s.scalars(_query(filters, current_user)
                                            .order_by(Ticket.created_at).limit(100_000)))
        data = reports.export_xlsx(s, rows, labels=_xlsx_labels())
    return _xlsx(data, "tiket-helpdesk.xlsx")


def _xlsx_labels() -> dict[str, str]:
    words = ["Number", "Filed", "Subject", "Requester", "E-mail", "Phone", "Channel",
             "Category", "Division", "Priority", "Status", "First response", "Resolved",
             "Response breached", "Resolution breached", "Rating", "Tickets", "Summary",
             "Period", "Complaints", "Still open", "Routed to a division (%)",
             "Right division first time (%)", "First response, median (business minutes)",
             "First response within target (%)", "Resolution, median (business minutes)",
             "Resolution within target (%)", "Satisfaction (1-5)", "Ratings"]
    return {**{w: _(w) for w in words}, **web.labels()}


def _xlsx(data: bytes, name: str) -> Response:
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- staff entry -------------------------------------------------------------------------------


def _entry_context(values: dict[str, Any], errors: dict[str, str],
                   summary: list[str] | None = None) -> dict[str, Any]:
    from core.rooms.service import labs

    with ruang().db.session() as s:
        cats = service.categories(s)
        all_labs = labs(s, include_inactive=False)
        max_mb = int(options.get(s, "helpdesk.max_file_mb"))
        max_files = int(options.get(s, "helpdesk.max_files"))
    return {"categories": cats, "values": values, "errors": errors, "summary": summary or [],
            "labs": all_labs, "channels": web.ENTRY_CHANNELS, "max_mb": max_mb,
            "max_files": max_files}


@bp.route("/new", methods=["GET", "POST"])
@require("helpdesk.work")
def new() -> Any:
    _staff_only()
    values: dict[str, Any] = request.form.to_dict()
    if request.method == "GET":
        values = {"channel": request.args.get("channel", "walk_in"), "priority": ""}
        return render_template("helpdesk/entry.html", **_entry_context(values, {}))
    data = {**values, "priority": values.get("priority") or None}
    if data.get("channel") not in web.ENTRY_CHANNELS:
        data["channel"] = "invalid"
    try:
        form = parse(Filing, data)
        with service.writing() as (s, stored):
            ticket = service.file_ticket(s, form, actor=current_user, uploads=web.uploads(),
                                         stored=stored, staff_entry=True, ip=web.client_ip())
            number = ticket.number
            if values.get("forward_to"):
                service.forward(s, ticket, values["forward_to"], current_user)
    except FormError as exc:
        errors = web.form_errors(exc)
        return render_template("helpdesk/entry.html", **_entry_context(
            values, errors, web.error_summary(errors))), 400
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return render_template("helpdesk/entry.html", **_entry_context(values, {}, [message])
                               ), code
    except WorkflowError as exc:
        message, code = web.workflow_error(exc)
        return render_template("helpdesk/entry.html", **_entry_context(values, {}, [message])
                               ), code
    flash(_("Ticket %(number)s was created; the requester was sent the number.",
            number=number), "success")
    return redirect(url_for(".ticket", number=number), code=303)


# -- the ticket page -----------------------------------------------------------------------------


def _load(s: Session, number: str) -> Ticket:
    try:
        return service.visible(s, current_user, number)
    except service.TicketError:
        abort(404)


def _page(number: str, errors: dict[str, str] | None = None,
          summary: list[str] | None = None, code: int = 200) -> Any:
    from core.rooms.service import labs

    with ruang().db.session() as s:
        ticket = _load(s, number)
        entries = timeline.entries(s, ticket, staff=True)
        files = timeline.first_files(s, ticket, staff=True)
        p = panel(s, TICKET, ticket, current_user, url_for(".workflow", number=ticket.number))
        can_work = access.may_work(current_user, ticket)
        buttons = [b for b in p.buttons if b.action not in FORM_ACTIONS] if can_work else []
        p = dataclasses.replace(p, buttons=buttons)
        names = _names(s, {ticket.assignee_id, ticket.entered_by, ticket.created_by})
        division_staff = service.staff_of(s, ticket.division)
        forward_staff = {d: service.staff_of(s, d) for d, _label in web.division_choices()}
        canned_stmt = select(CannedReply).where(CannedReply.active.is_(True))
        if not access.sees_all(current_user):
            canned_stmt = canned_stmt.where(or_(CannedReply.division.is_(None),
                                                CannedReply.division == current_user.division))
        canned = list(s.scalars(canned_stmt.order_by(CannedReply.title)))
        cats = service.categories(s, active_only=False)
        category = s.get(Category, ticket.category_id) if ticket.category_id else None
        merged_into = s.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
        merged_from = list(s.scalars(select(Ticket).where(Ticket.merged_into_id == ticket.id)))
        place = service.place_label(s, ticket)
        seat_label = service.seat_label_of(s, ticket)
        all_labs = labs(s, include_inactive=False)
        followers = list(s.scalars(select(Follower).where(Follower.ticket_id == ticket.id)))
        max_mb = int(options.get(s, "helpdesk.max_file_mb"))
        max_files = int(options.get(s, "helpdesk.max_files"))
    ctx = {
        "ticket": ticket, "entries": entries, "files": files, "panel": p,
        "can_work": can_work, "can_assign": access.may_assign(current_user, ticket),
        "can_forward": access.may_forward(current_user, ticket), "names": names,
        "division_staff": division_staff, "forward_staff": forward_staff, "canned": canned,
        "categories": cats, "category": category, "merged_into": merged_into,
        "merged_from": merged_from, "place": place, "seat_label": seat_label, "labs": all_labs,
        "followers": followers, "errors": errors or {}, "summary": summary or [],
        "due_state": sla.due_state(ticket), "wf": TICKET, "max_mb": max_mb,
        "max_files": max_files,
        "divisions": web.division_choices(),
    }
    return render_template("helpdesk/ticket_desk.html", **ctx), code


@bp.route("/t/<number>")
@require("helpdesk.work")
def ticket(number: str) -> Any:
    _staff_only()
    return _page(number)


def _act(number: str, work: Any, done: str) -> Any:
    """Run ``work(session, ticket, stored)`` and answer like every action of the page."""
    _staff_only()
    try:
        with service.writing() as (s, stored):
            ticket = _load(s, number)
            work(s, ticket, stored)
    except FormError as exc:
        errors = web.form_errors(exc)
        return _page(number, errors, web.error_summary(errors), 400)
    except service.TicketError as exc:
        message, code = web.ticket_error(exc)
        return _page(number, {}, [message], code)
    except WorkflowError as exc:
        message, code = web.workflow_error(exc)
        return _page(number, {}, [message], code)
    if done:
        flash(done, "success")
    return redirect(url_for(".ticket", number=number), code=303)


@bp.route("/t/<number>/reply", methods=["POST"])
@require("helpdesk.work")
def reply(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        form = parse(Reply, {"body": request.form.get("body", ""),
                             "internal": request.form.get("internal") == "1"})
        service.reply(s, t, current_user, form.body, uploads=web.uploads(), stored=stored,
                      internal=form.internal)
        after = request.form.get("then", "")
        if after and not form.internal and after in ("wait", "resolve"):
            service.transition(s, t, after, current_user, form.body)

    internal = request.form.get("internal") == "1"
    return _act(number, work, _("The note was saved.") if internal else
                _("The reply was sent to the requester."))


@bp.route("/t/<number>/workflow", methods=["POST"])
@require("helpdesk.work")
def workflow(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        act = request.form.get("action", "")
        if act in FORM_ACTIONS:
            raise service.TicketError("Use the form of that action.", "invalid")
        if not access.may_work(current_user, t):
            raise service.TicketError("This ticket belongs to another division.", "forbidden")
        service.transition(s, t, act, current_user, request.form.get("comment", ""),
                           device_working=request.form.get("device_working") == "1")

    return _act(number, work, _("The status was changed."))


@bp.route("/t/<number>/forward", methods=["POST"])
@require("helpdesk.triage")
def forward(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        form = parse(Forward, request.form.to_dict())
        service.forward(s, t, form.division, current_user, comment=form.comment,
                        assignee_id=form.assignee_id)

    return _act(number, work, _("The ticket was forwarded."))


@bp.route("/t/<number>/assign", methods=["POST"])
@require("helpdesk.work")
def assign(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        data = request.form.to_dict()
        if data.get("assignee_id") == "me":
            data["assignee_id"] = str(current_user.id)
        form = parse(Assign, data)
        service.assign(s, t, form.assignee_id, current_user)

    return _act(number, work, _("The assignment was saved."))


@bp.route("/t/<number>/merge", methods=["POST"])
@require("helpdesk.work")
def merge(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        form = parse(Merge, request.form.to_dict())
        target = service.by_number(s, form.target)
        if target is None or not access.can_view(current_user, target):
            raise FormError.one("target", "no ticket %(number)s", number=form.target)
        service.merge(s, t, target, current_user, form.comment)

    return _act(number, work, _("The tickets were merged."))


@bp.route("/t/<number>/link", methods=["POST"])
@require("helpdesk.work")
def link(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        form = parse(Link, request.form.to_dict())
        service.link_place(s, t, current_user, form.lab_id, form.seat_label,
                           device_status=form.device_status)

    return _act(number, work, _("The lab or PC was linked."))


@bp.route("/t/<number>/update", methods=["POST"])
@require("helpdesk.work")
def update(number: str) -> Any:
    def work(s: Session, t: Ticket, stored: list[str]) -> None:
        form = parse(Update, request.form.to_dict())
        service.update(s, t, current_user, subject=form.subject, priority=form.priority.value,
                       category_id=form.category_id)

    return _act(number, work, _("The ticket was updated."))


@bp.route("/t/<number>/files/<int:att_id>")
@require("helpdesk.work")
def download(number: str, att_id: int) -> Response:
    _staff_only()
    with ruang().db.session() as s:
        ticket = _load(s, number)
        att = s.get(Attachment, att_id)
        if att is None or att.ticket_id != ticket.id:
            abort(404)
    return web.send_attachment(att)
