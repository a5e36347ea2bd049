"""The requester's side and the approval chain: the lab list, the request form (portal and
letter), availability before submitting, the request page with its workflow, checklists,
check-in and check-out."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, time
from pathlib import Path
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from core.accounts.access import can, require
from core.db import utcnow
from core.instance import ruang
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from core.workflow.panel import apply_form, panel
from plugins.lab import catalog, people, requests
from plugins.lab.errors import N_, LabError
from plugins.lab.flows import FORM_ACTIONS, LAB_REQUEST
from plugins.lab.models import (
    Channel,
    LabRequest,
    OccurrenceStatus,
    PreparationItem,
    RequestState,
)
from plugins.lab.timeslots import day_bounds, day_format, local, today
from plugins.lab.views import bp
from plugins.lab.views.common import (
    flash_refusal,
    form_dict,
    occurrence_or_404,
    refusal,
    request_or_404,
)

LETTER_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".png": "image/png"}
MAX_LETTER_BYTES = 10 * 1024 * 1024

STATE_BADGES = {
    "submitted": "warn", "approved": "info", "delegated": "info", "preparing": "info",
    "ready": "ok", "in_use": "ok", "done": "plain", "rejected": "bad", "cancelled": "bad",
}
OCC_LABELS = {
    "requested": N_("Waiting for approval"), "conflict": N_("Left out: lab taken"),
    "booked": N_("Booked"), "checked_in": N_("Checked in"), "done": N_("Done"),
    "no_show": N_("No-show"), "cancelled": N_("Cancelled"),
}
OCC_BADGES = {
    "requested": "warn", "conflict": "bad", "booked": "ok", "checked_in": "info",
    "done": "plain", "no_show": "bad", "cancelled": "bad",
}


@bp.app_template_filter("lab_local")
def _lab_local(moment: Any, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored time on the campus clock, day names in the reader's language."""
    return day_format(local(moment), fmt) if moment else ""


@bp.app_template_filter("lab_month")
def _lab_month(day: Any) -> str:
    from flask_babel import format_date

    return str(format_date(day, "MMMM yyyy"))


@bp.app_template_filter("lab_day")
def _lab_day(moment: Any, fmt: str = "%a %d-%m-%Y") -> str:
    """A date (or a time already on the campus clock) with a localised day name."""
    return day_format(moment, fmt) if moment else ""


@bp.app_context_processor
def _lab_context() -> dict[str, Any]:
    return {"lab_state_badges": STATE_BADGES, "lab_occ_badges": OCC_BADGES,
            "lab_state_label": lambda s: _(LAB_REQUEST.label(s)),
            "lab_can": lambda permission: can(current_user, permission),
            "occ_label": lambda s: _(OCC_LABELS.get(s, s))}


# -- the landing page ----------------------------------------------------------------------


@bp.route("/")
@require("lab.view")
def index() -> str:
    r = ruang()
    with r.db.session() as session:
        labs = catalog.summaries(session, bookable_only=not can(current_user, "lab.manage"),
                                 include_inactive=can(current_user, "lab.manage"))
        soft = {s.lab.id: catalog.software(session, s.lab.id) for s in labs}
        mine = requests.visible_requests(session, current_user, mine=True, limit=10)
        queues: dict[str, int] = {}
        if can(current_user, "lab.requests_all"):
            for state in ("submitted", "approved", "delegated", "preparing", "ready", "in_use"):
                queues[state] = session.scalar(select(func.count()).select_from(LabRequest)
                                               .where(LabRequest.state == state)) or 0
        sessions_today = requests.today_sessions(session)
        lab_codes = {s.lab.id: s.lab.code for s in labs}
        for lab in rooms.labs(session):
            lab_codes.setdefault(lab.id, lab.code)
    return render_template("lab/index.html", labs=labs, software=soft, mine=mine,
                           queues=queues, sessions_today=sessions_today, lab_codes=lab_codes)


# -- the request form ----------------------------------------------------------------------


def _form_context(session: Any, letter: bool) -> dict[str, Any]:
    labs = catalog.summaries(session, bookable_only=not letter)
    return {"labs": labs, "letter": letter, "min_day": today().isoformat()}


def _request_page(letter: bool) -> Response | str | tuple[str, int]:
    r = ruang()
    values = form_dict() if request.method == "POST" else dict(request.args)
    action = values.pop("action", "")
    result = None
    error = ""
    if request.method == "POST":
        upload = request.files.get("letter_file") if letter else None
        try:
            form = requests.parse_form(values, letter=letter)
            channel = Channel.LETTER if letter else Channel.PORTAL
            if action == "submit":
                with r.db.session() as session:
                    result = requests.check(session, form, channel=channel)
                if result.problems:
                    raise LabError(N_("%(problems)s"), problems=" ".join(result.problems))
                stored = _store_letter(upload) if upload and upload.filename else ""
                try:
                    with r.db.transaction() as session:
                        req, result = requests.submit(session, form, current_user,
                                                      channel=channel, letter_file=stored)
                        number, req_id = req.number, req.id
                        left_out = len(result.taken_slots)
                except Exception:
                    if stored:  # the request did not go in: no orphan scan stays behind
                        (_letters_dir() / stored).unlink(missing_ok=True)
                    raise
                if left_out:
                    flash(_("Request %(number)s was submitted; %(n)d session(s) clash with "
                            "existing bookings and were left out.", number=number, n=left_out),
                          "warning")
                else:
                    flash(_("Request %(number)s was submitted and waits for Ka. BPTI.",
                            number=number), "success")
                return redirect(url_for("lab.request_detail", request_id=req_id))
            with r.db.session() as session:
                result = requests.check(session, form, channel=channel)
        except LabError as exc:
            error = exc.translated()
    with r.db.session() as session:
        context = _form_context(session, letter)
    html = render_template("lab/request_form.html", values=values, result=result, error=error,
                           **context)
    return (html, 400) if error and action == "submit" else html


@bp.route("/request", methods=["GET", "POST"])
@require("lab.request")
def new_request() -> Response | str | tuple[str, int]:
    return _request_page(letter=False)


@bp.route("/letter", methods=["GET", "POST"])
@require("lab.letter")
def new_letter() -> Response | str | tuple[str, int]:
    return _request_page(letter=True)


def _letters_dir() -> Path:
    folder = ruang().settings.instance / "lab_letters"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store_letter(upload: Any) -> str:
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in LETTER_TYPES:
        raise LabError(N_("The letter must be a PDF, JPG or PNG file."))
    data = upload.read(MAX_LETTER_BYTES + 1)
    if len(data) > MAX_LETTER_BYTES:
        raise LabError(N_("The letter file is larger than 10 MB."))
    if not data:
        raise LabError(N_("The letter file is empty."))
    # The name says what it claims to be; the first bytes say what it is.
    magic = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",),
             ".jpeg": (b"\xff\xd8",)}[suffix]
    if not data.startswith(magic):
        raise LabError(N_("The letter must be a PDF, JPG or PNG file."))
    name = f"{uuid.uuid4().hex}{suffix}"
    (_letters_dir() / name).write_bytes(data)
    return name


@bp.route("/availability.json")
@require("lab.view")
def availability() -> Response | tuple[Response, int]:
    """Availability of a lab for the form's values, for the form's live check."""
    values = dict(request.args)
    letter = values.pop("channel", "") == "letter" and can(current_user, "lab.letter")
    try:
        form = requests.parse_form(values, letter=False)
        with ruang().db.session() as session:
            result = requests.check(session, form,
                                    channel=Channel.LETTER if letter else Channel.PORTAL)
            start, end = day_bounds(form.first_day)
            day = [{"title": i.title, "source": i.source,
                    "start": local(i.start).strftime("%H:%M"),
                    "end": local(i.end).strftime("%H:%M")}
                   for i in rooms.busy(session, form.lab_id, start, end)]
    except LabError as exc:
        return jsonify(ok=False, problems=[exc.translated()], warnings=[], slots=[],
                       day=[]), 200
    return jsonify(
        ok=result.ok, problems=result.problems, warnings=result.warnings,
        working_seats=result.working_seats, day=day,
        slots=[{"date": s.slot.day.isoformat(),
                "day": day_format(local(s.slot.start), "%a %d-%m-%Y"),
                "start": local(s.slot.start).strftime("%H:%M"),
                "end": local(s.slot.end).strftime("%H:%M"), "free": s.free,
                "clashes": s.clashes, "pending": s.pending} for s in result.slots])


# -- lists and the request page ------------------------------------------------------------


@bp.route("/requests")
@require("lab.view")
def requests_list() -> str:
    state = request.args.get("state", "").strip() or None
    if state is not None and state not in LAB_REQUEST.states:
        state = None
    mine = request.args.get("mine") == "1"
    with ruang().db.session() as session:
        rows = requests.visible_requests(session, current_user, state=state, mine=mine)
        codes = {lab.id: lab.code for lab in rooms.labs(session)}
    return render_template("lab/requests.html", rows=rows, state=state, mine=mine, codes=codes,
                           states=LAB_REQUEST.states)


def _detail_context(session: Any, req: LabRequest) -> dict[str, Any]:
    lab = rooms.get_lab(session, req.lab_id)
    wf_panel = panel(session, LAB_REQUEST, req, current_user,
                     url_for("lab.request_workflow", request_id=req.id))
    # Steps with their own form leave the panel; "finish" stays for a booking whose
    # remaining sessions were cancelled or missed (nothing to check out then).
    wf_panel = dataclasses.replace(wf_panel, buttons=[
        b for b in wf_panel.buttons if b.action not in FORM_ACTIONS
        or (b.action == "finish" and req.state == RequestState.READY)])
    allowed = {t.action for t in LAB_REQUEST.allowed(req, current_user)}
    current = requests.current_occurrence(req)
    default_items = requests.default_checklist(session, req) if "assign" in allowed else []
    is_assignee = current_user.id in {req.assignee_id, req.coordinator_id} | {
        i.assignee_id for i in req.checklist}
    clashes = {}
    if req.state == RequestState.SUBMITTED:
        for occ in req.occurrences:
            if occ.status == OccurrenceStatus.REQUESTED:
                found = requests.slot_clashes(session, req.lab_id, occ.starts_at, occ.ends_at)
                if found:
                    clashes[occ.id] = found
    return {
        "req": req, "lab": lab, "panel": wf_panel, "allowed": allowed, "current": current,
        "staff": people.staff(session) if "assign" in allowed else [],
        "default_items": default_items,
        "can_tick": req.state == RequestState.PREPARING and (
            is_assignee or can(current_user, "lab.prepare")),
        "can_cancel_occ": req.state not in ("done", "rejected", "cancelled") and (
            req.requester_id == current_user.id or req.created_by == current_user.id
            or can(current_user, "lab.prepare")),
        "can_live": can(current_user, "lab.live"),
        "can_move": can(current_user, "lab.prepare") and req.state not in (
            "done", "rejected", "cancelled"),
        "names": {u: people.name_of(session, u) for u in {
            req.coordinator_id, req.assignee_id, req.created_by,
            *(i.assignee_id for i in req.checklist), *(i.done_by for i in req.checklist)}
            if u is not None},
        "clashes": clashes, "now": utcnow(),
        "missing_software": catalog.missing_software(session, req.lab_id, req.software_list),
    }


@bp.route("/requests/<int:request_id>")
@require("lab.view")
def request_detail(request_id: int) -> str:
    with ruang().db.session() as session:
        req = request_or_404(session, request_id)
        if not requests.may_see(current_user, req):
            abort(403)
        context = _detail_context(session, req)
        html = render_template("lab/request_detail.html", **context)
    return html


def _back(req_id: int) -> Response:
    return redirect(url_for("lab.request_detail", request_id=req_id))


def _act(request_id: int, step: Any, success: str) -> Response:
    """Run ``step(session, req)`` in a transaction; flash ``success`` or the refusal."""
    try:
        with ruang().db.transaction() as session:
            req = request_or_404(session, request_id)
            if not requests.may_see(current_user, req):
                abort(403)
            step(session, req)
    except (LabError, WorkflowError) as exc:
        if isinstance(exc, WorkflowError) and exc.kind == "role":
            abort(403, description=str(exc))
        flash_refusal(exc)
    else:
        flash(success, "success")
    return _back(request_id)


@bp.route("/requests/<int:request_id>/workflow", methods=["POST"])
@require("lab.view")
def request_workflow(request_id: int) -> Response:
    """The panel's plain actions: reject, delegate, mark ready, cancel."""
    action = request.form.get("action", "")
    comment = request.form.get("comment", "").strip()
    if action in FORM_ACTIONS and action != "finish":
        abort(400, description=_("Use the form for this step."))

    def step(session: Any, req: LabRequest) -> None:
        if action == "reject":
            requests.reject(session, req, current_user, comment)
        elif action == "delegate":
            requests.delegate_to_yansi(session, req, current_user, comment)
        elif action == "mark_ready":
            requests.mark_ready(session, req, current_user, comment)
        elif action == "cancel":
            requests.cancel(session, req, current_user, comment)
        elif action == "finish":
            if req.state != RequestState.READY:
                raise LabError(N_("Check the session out instead."))
            requests.finish(session, req, current_user, comment)
        else:
            apply_form(session, LAB_REQUEST, req, current_user, request.form)

    return _act(request_id, step, _("Saved."))


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@require("lab.approve")
def approve(request_id: int) -> Response:
    skip = request.form.get("skip_conflicts") == "on"
    flags = request.form.getlist("delegate")
    delegate = not flags or "on" in flags
    comment = request.form.get("comment", "")
    outcome: dict[str, Any] = {}

    def step(session: Any, req: LabRequest) -> None:
        result = requests.approve(session, req, current_user, comment=comment,
                                  skip_conflicts=skip, delegate=delegate)
        outcome["booked"] = len(result.booked)
        outcome["left_out"] = len(result.left_out)

    response = _act(request_id, step, _("Approved."))
    if outcome.get("left_out"):
        flash(_("%(n)d session(s) were left out because the lab is taken then.",
                n=outcome["left_out"]), "warning")
    return response


@bp.route("/requests/<int:request_id>/assign", methods=["POST"])
@require("lab.prepare")
def assign(request_id: int) -> Response:
    try:
        form = requests.AssignForm.model_validate({
            "assignee_id": request.form.get("assignee_id", "0") or "0",
            "items": request.form.get("items", ""),
            "comment": request.form.get("comment", "")})
    except ValidationError:
        flash(_("Choose a staff member and write at least one checklist item."), "error")
        return _back(request_id)

    def step(session: Any, req: LabRequest) -> None:
        requests.assign(session, req, current_user, form)

    return _act(request_id, step, _("The preparation was assigned."))


@bp.route("/checklist/<int:item_id>", methods=["POST"])
@require("lab.view")
def tick(item_id: int) -> Response:
    r = ruang()
    done = request.form.get("done") == "1"
    note = request.form.get("note", "")
    with r.db.session() as session:
        item = session.get(PreparationItem, item_id)
        if item is None:
            abort(404)
        request_id = item.request_id
        allowed_ids = {item.assignee_id, item.request.assignee_id, item.request.coordinator_id}
    if current_user.id not in allowed_ids and not can(current_user, "lab.prepare"):
        abort(403)
    try:
        with r.db.transaction() as session:
            found = session.get(PreparationItem, item_id)
            assert found is not None
            requests.tick(session, found, current_user, done, note)
    except LabError as exc:
        flash_refusal(exc)
    return _back(request_id)


@bp.route("/requests/<int:request_id>/items", methods=["POST"])
@require("lab.prepare")
def add_item(request_id: int) -> Response:
    label = request.form.get("label", "").strip()[:200]
    if not label:
        flash(_("Write the checklist item."), "error")
        return _back(request_id)

    def step(session: Any, req: LabRequest) -> None:
        if req.state != RequestState.PREPARING:
            raise LabError(N_("The checklist can only change while the lab is being "
                              "prepared."))
        req.checklist.append(PreparationItem(position=len(req.checklist), label=label,
                                           assignee_id=req.assignee_id))
        session.flush()
        from core.audit.service import record as audit

        audit(session, "lab.checklist.add", actor=current_user, object_type="lab_request",
              object_id=req.id, details={"item": label})

    return _act(request_id, step, _("Item added."))


@bp.route("/requests/<int:request_id>/letter")
@require("lab.view")
def letter_file(request_id: int) -> Response:
    with ruang().db.session() as session:
        req = request_or_404(session, request_id)
        if not requests.may_see(current_user, req) or not req.letter_file:
            abort(404)
        name = req.letter_file
    path = _letters_dir() / Path(name).name
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=LETTER_TYPES.get(path.suffix, "application/octet-stream"),
                     download_name=f"surat-{request_id}{path.suffix}")


# -- sessions ------------------------------------------------------------------------------


def _occ_step(occurrence_id: int, action: str) -> Response:
    r = ruang()
    with r.db.session() as session:
        occ = occurrence_or_404(session, occurrence_id)
        request_id = occ.request_id
    attendees_text = request.form.get("attendees", "").strip()
    try:
        attendees = int(attendees_text) if attendees_text else None
    except ValueError:
        flash(_("The number of users must be a whole number."), "error")
        return _back(request_id)
    comment = request.form.get("comment", "")
    try:
        with r.db.transaction() as session:
            occ = occurrence_or_404(session, occurrence_id)
            req = occ.request
            if not requests.may_see(current_user, req):
                abort(403)
            if action == "check_in":
                requests.check_in(session, occ, current_user, attendees=attendees,
                                  comment=comment)
                message = _("Checked in. The lab is in use.")
            elif action == "check_out":
                requests.check_out(session, occ, current_user, attendees=attendees,
                                   condition_note=request.form.get("condition", ""),
                                   comment=comment)
                message = _("Checked out.")
            else:
                requests.cancel_occurrence(session, occ, current_user,
                                           request.form.get("reason", ""))
                message = _("The session was cancelled; the lab is free then.")
    except (LabError, WorkflowError) as exc:
        if isinstance(exc, WorkflowError) and exc.kind == "role":
            abort(403, description=str(exc))
        flash(refusal(exc), "error")
    else:
        flash(message, "success")
    target = request.form.get("next", "")
    if target.startswith("/lab/") and "//" not in target:
        return redirect(target)
    return _back(request_id)


@bp.route("/occurrences/<int:occurrence_id>/check-in", methods=["POST"])
@require("lab.live")
def check_in(occurrence_id: int) -> Response:
    return _occ_step(occurrence_id, "check_in")


@bp.route("/occurrences/<int:occurrence_id>/check-out", methods=["POST"])
@require("lab.live")
def check_out(occurrence_id: int) -> Response:
    return _occ_step(occurrence_id, "check_out")


@bp.route("/occurrences/<int:occurrence_id>/move", methods=["POST"])
@require("lab.prepare")
def move_occurrence(occurrence_id: int) -> Response:
    r = ruang()
    with r.db.session() as session:
        request_id = occurrence_or_404(session, occurrence_id).request_id
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        start = time.fromisoformat(request.form.get("start_time", ""))
        end = time.fromisoformat(request.form.get("end_time", ""))
    except ValueError:
        flash(_("Give the dates as YYYY-MM-DD and the times as HH:MM."), "error")
        return _back(request_id)
    try:
        with r.db.transaction() as session:
            occ = occurrence_or_404(session, occurrence_id)
            requests.move_occurrence(session, occ, current_user, day=day, start=start, end=end,
                                     reason=request.form.get("reason", ""))
    except LabError as exc:
        flash_refusal(exc)
    else:
        flash(_("The session was moved; the requester is told."), "success")
    return _back(request_id)


@bp.route("/occurrences/<int:occurrence_id>/cancel", methods=["POST"])
@require("lab.request")
def cancel_occurrence(occurrence_id: int) -> Response:
    return _occ_step(occurrence_id, "cancel")

