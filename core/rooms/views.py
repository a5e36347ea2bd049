"""Staff pages of the registry: labs, the seat map, PCs, kiosk enrolment and revocation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import can, require
from core.db import utcnow
from core.instance import ruang
from core.rooms import kiosks, service
from core.rooms.models import DeviceStatus, Kiosk, Lab, Seat

bp = Blueprint("rooms", __name__, url_prefix="/rooms", template_folder="templates",
               static_folder="static", static_url_path="/static")

STATUS_LABELS = {
    "working": "Working",
    "faulty": "Faulty",
    "in_repair": "In repair",
    "no_device": "No PC",
    "inactive": "Seat not in use",
}


def _status_label(state: str) -> str:
    return _(STATUS_LABELS.get(state, state))


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time on the instance's wall clock."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(ruang().settings.timezone)).strftime(fmt)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"rooms_status_label": _status_label, "rooms_local": _local}


class DeviceForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    asset_number: str = Field(min_length=1, max_length=60)
    hostname: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=2000)


class StatusForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    status: Literal["working", "faulty", "in_repair"]
    reason: str = Field(default="", max_length=500)


class SeatForm(BaseModel):
    active: bool
    reason: str = Field(default="", max_length=500)


class RevokeForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    reason: str = Field(default="", max_length=300)


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in err["loc"])
    return f"{field}: {err['msg']}"


def _lab_or_404(session: Session, lab_id: int) -> Lab:
    lab = session.get(Lab, lab_id)
    if lab is None:
        abort(404, description=_("No such lab."))
    return lab


def _seat_or_404(session: Session, lab: Lab, seat_id: int) -> Seat:
    seat = session.get(Seat, seat_id)
    if seat is None or seat.lab_id != lab.id:
        abort(404, description=_("No such seat."))
    return seat


def _lab_form_values() -> dict[str, Any]:
    form = request.form
    return {
        "code": form.get("code", ""), "name": form.get("name", ""),
        "rows": form.get("rows", ""), "cols": form.get("cols", ""),
        "building": form.get("building", ""), "floor": form.get("floor", ""),
        "notes": form.get("notes", ""), "active": form.get("active") == "on",
    }


# -- labs ----------------------------------------------------------------------------------


@bp.route("/")
@require("rooms.view")
def index() -> str:
    now = utcnow()
    with ruang().db.session() as session:
        rows = []
        for lab in service.labs(session):
            counts = service.lab_counts(session, lab.id)
            online = sum(1 for k, _s in kiosks.kiosks_of_lab(session, lab.id)
                         if kiosks.is_online(k, now))
            rows.append({"lab": lab, "counts": counts, "online": online})
    return render_template("rooms/index.html", rows=rows,
                           can_manage=can(current_user, "rooms.manage"))


@bp.route("/new", methods=["GET", "POST"])
@require("rooms.manage")
def create() -> str | Response | tuple[str, int]:
    values: dict[str, Any] = {"rows": 5, "cols": 8, "active": True}
    if request.method == "POST":
        values = _lab_form_values()
        try:
            with ruang().db.transaction() as session:
                lab = service.create_lab(session, actor=current_user, **values)
        except service.RoomError as exc:
            flash(str(exc), "error")
            return render_template("rooms/lab_form.html", lab=None, values=values), 400
        flash(_("Lab %(code)s was created with %(n)s seats.", code=lab.code,
                n=lab.rows * lab.cols), "success")
        return redirect(url_for("rooms.lab", lab_id=lab.id))
    return render_template("rooms/lab_form.html", lab=None, values=values)


@bp.route("/<int:lab_id>/edit", methods=["GET", "POST"])
@require("rooms.manage")
def edit(lab_id: int) -> str | Response | tuple[str, int]:
    r = ruang()
    with r.db.session() as session:
        lab = _lab_or_404(session, lab_id)
    values = {k: getattr(lab, k) for k in service.LabForm.model_fields}
    if request.method == "POST":
        values = _lab_form_values()
        try:
            with r.db.transaction() as session:
                current = _lab_or_404(session, lab_id)
                service.update_lab(session, current, actor=current_user, **values)
        except service.RoomError as exc:
            flash(str(exc), "error")
            return render_template("rooms/lab_form.html", lab=lab, values=values), 400
        flash(_("Lab %(code)s was saved.", code=values["code"].strip().upper()), "success")
        return redirect(url_for("rooms.lab", lab_id=lab_id))
    return render_template("rooms/lab_form.html", lab=lab, values=values)


@bp.route("/<int:lab_id>")
@require("rooms.view")
def lab(lab_id: int) -> str:
    with ruang().db.session() as session:
        the_lab = _lab_or_404(session, lab_id)
        grid = service.seat_map(session, lab_id)
        counts = service.lab_counts(session, lab_id)
    online = sum(1 for row in grid for cell in row if cell.online)
    return render_template("rooms/lab.html", lab=the_lab, grid=grid, counts=counts,
                           online=online, can_manage=can(current_user, "rooms.manage"))


@bp.route("/<int:lab_id>/status.json")
@require("rooms.view")
def lab_status(lab_id: int) -> Response:
    """The seat map's live part (device state and kiosk online), polled by the page."""
    with ruang().db.session() as session:
        _lab_or_404(session, lab_id)
        grid = service.seat_map(session, lab_id)
    seats = [{"id": c.seat.id, "label": c.seat.label, "state": c.state, "online": c.online,
              "kiosk": c.kiosk is not None} for row in grid for c in row]
    return jsonify(lab_id=lab_id, online=sum(1 for s in seats if s["online"]), seats=seats)


# -- seats and devices ---------------------------------------------------------------------


@bp.route("/<int:lab_id>/seats/<int:seat_id>")
@require("rooms.view")
def seat(lab_id: int, seat_id: int) -> str:
    return _seat_page(lab_id, seat_id)


def _seat_page(lab_id: int, seat_id: int, status: int = 200, **form_values: Any) -> Any:
    from core.audit.service import entries_for

    with ruang().db.session() as session:
        the_lab = _lab_or_404(session, lab_id)
        the_seat = _seat_or_404(session, the_lab, seat_id)
        device = service.device_at(session, seat_id)
        seat_kiosks = [k for k, _s in kiosks.kiosks_of_lab(session, lab_id, include_revoked=True)
                       if k.seat_id == seat_id][:10]
        history = entries_for(session, "device", device.id)[-10:] if device else []
    html = render_template(
        "rooms/seat.html", lab=the_lab, seat=the_seat, device=device, kiosks=seat_kiosks,
        history=list(reversed(history)), now=utcnow(), is_online=kiosks.is_online,
        statuses=[s.value for s in DeviceStatus], can_manage=can(current_user, "rooms.manage"),
        form=form_values,
    )
    return (html, status) if status != 200 else html


@bp.route("/<int:lab_id>/seats/<int:seat_id>/device", methods=["POST"])
@require("rooms.manage")
def save_device(lab_id: int, seat_id: int) -> Any:
    try:
        form = DeviceForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        flash(_first_problem(exc), "error")
        return _seat_page(lab_id, seat_id, 400, **request.form.to_dict())
    try:
        with ruang().db.transaction() as session:
            the_lab = _lab_or_404(session, lab_id)
            the_seat = _seat_or_404(session, the_lab, seat_id)
            service.save_device(session, the_seat, asset_number=form.asset_number,
                                hostname=form.hostname, notes=form.notes, actor=current_user)
    except service.RoomError as exc:
        flash(str(exc), "error")
        return _seat_page(lab_id, seat_id, 400, **request.form.to_dict())
    flash(_("The PC at seat %(seat)s was saved.", seat=the_seat.label), "success")
    return redirect(url_for("rooms.seat", lab_id=lab_id, seat_id=seat_id))


@bp.route("/<int:lab_id>/seats/<int:seat_id>/status", methods=["POST"])
@require("rooms.manage")
def device_status(lab_id: int, seat_id: int) -> Any:
    try:
        form = StatusForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        flash(_first_problem(exc), "error")
        return _seat_page(lab_id, seat_id, 400)
    with ruang().db.transaction() as session:
        the_lab = _lab_or_404(session, lab_id)
        the_seat = _seat_or_404(session, the_lab, seat_id)
        device = service.device_at(session, seat_id)
        if device is None:
            abort(404, description=_("There is no PC at this seat yet."))
        changed = service.set_device_status(session, device, form.status, actor=current_user,
                                            reason=form.reason)
    if changed:
        flash(_("Seat %(seat)s: the PC is now %(status)s.", seat=the_seat.label,
                status=_status_label(form.status).lower()), "success")
    return redirect(url_for("rooms.seat", lab_id=lab_id, seat_id=seat_id))


@bp.route("/<int:lab_id>/seats/<int:seat_id>/active", methods=["POST"])
@require("rooms.manage")
def seat_active(lab_id: int, seat_id: int) -> Any:
    try:
        form = SeatForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        flash(_first_problem(exc), "error")
        return _seat_page(lab_id, seat_id, 400)
    try:
        with ruang().db.transaction() as session:
            the_lab = _lab_or_404(session, lab_id)
            the_seat = _seat_or_404(session, the_lab, seat_id)
            service.set_seat_active(session, the_seat, form.active, actor=current_user,
                                    reason=form.reason)
    except service.RoomError as exc:
        flash(str(exc), "error")
        return _seat_page(lab_id, seat_id, 400)
    return redirect(url_for("rooms.seat", lab_id=lab_id, seat_id=seat_id))


# -- kiosks --------------------------------------------------------------------------------


@bp.route("/<int:lab_id>/enrol")
@require("rooms.manage")
def enrol(lab_id: int) -> str:
    """The code to show on the projector while lab PCs enrol."""
    now = utcnow()
    with ruang().db.session() as session:
        the_lab = _lab_or_404(session, lab_id)
        code = kiosks.current_code(session, lab_id, now)
        enrolled = kiosks.kiosks_of_lab(session, lab_id)
        since = code.created_at if code else None
        recent = [(k, s) for k, s in enrolled if since is not None and k.enrolled_at >= since]
    settings = ruang().settings
    base = settings.public_url.rstrip("/") if settings.public_url else request.host_url.rstrip("/")
    return render_template(
        "rooms/enrol.html", lab=the_lab, code=code, now=now, kiosk_url=f"{base}/kiosk",
        enrolled=len(enrolled), recent=recent,
        expires_in=int((code.expires_at - now).total_seconds()) if code else 0,
    )


@bp.route("/<int:lab_id>/enrol", methods=["POST"])
@require("rooms.manage")
def new_code(lab_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            the_lab = _lab_or_404(session, lab_id)
            kiosks.new_code(session, the_lab, actor=current_user)
    except service.RoomError as exc:
        flash(str(exc), "error")
        return redirect(url_for("rooms.lab", lab_id=lab_id))
    return redirect(url_for("rooms.enrol", lab_id=lab_id))


@bp.route("/<int:lab_id>/enrol/end", methods=["POST"])
@require("rooms.manage")
def end_code(lab_id: int) -> Response:
    with ruang().db.transaction() as session:
        _lab_or_404(session, lab_id)
        code = kiosks.current_code(session, lab_id)
        if code is not None:
            kiosks.end_code(session, code, actor=current_user)
    flash(_("Enrolment is closed: the code no longer works."), "success")
    return redirect(url_for("rooms.kiosk_list", lab_id=lab_id))


@bp.route("/<int:lab_id>/kiosks")
@require("rooms.view")
def kiosk_list(lab_id: int) -> str:
    show_revoked = request.args.get("all") == "1"
    with ruang().db.session() as session:
        the_lab = _lab_or_404(session, lab_id)
        rows = kiosks.kiosks_of_lab(session, lab_id, include_revoked=show_revoked)
    return render_template("rooms/kiosks.html", lab=the_lab, rows=rows, now=utcnow(),
                           is_online=kiosks.is_online, show_revoked=show_revoked,
                           can_manage=can(current_user, "rooms.manage"))


@bp.route("/kiosks/<int:kiosk_id>/revoke", methods=["POST"])
@require("rooms.manage")
def revoke(kiosk_id: int) -> Response:
    try:
        form = RevokeForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        abort(400, description=_first_problem(exc))
    with ruang().db.transaction() as session:
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is None:
            abort(404, description=_("No such kiosk."))
        lab, seat_row = kiosks.kiosk_place(session, kiosk)
        changed = kiosks.revoke(session, kiosk, actor=current_user, reason=form.reason)
    if changed:
        flash(_("The kiosk at seat %(seat)s was revoked; that PC must enrol again.",
                seat=seat_row.label), "success")
    back = request.form.get("next", "")
    if not back.startswith("/rooms/"):
        back = url_for("rooms.kiosk_list", lab_id=lab.id)
    return redirect(back)

