"""Staff pages over the core registry: a lab's page, the seat-map editor, PCs, equipment and
software lists, bulk import of PCs, QR stickers for fault reports, closures, feeds."""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from typing import Any

import qrcode
import qrcode.image.svg
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.accounts.access import can, public, require
from core.db import utcnow
from core.instance import ruang
from core.rooms import kiosks
from core.rooms import service as rooms
from core.rooms.models import Device, Lab, Seat
from plugins.lab import catalog, holds, importer, live, notices, repairs
from plugins.lab.errors import N_, LabError
from plugins.lab.models import Equipment, HoldKind, Repair, Software
from plugins.lab.requests import today_sessions
from plugins.lab.timeslots import at_local, local, today
from plugins.lab.views import bp
from plugins.lab.views.common import flash_refusal, lab_or_404, refusal, seat_or_404

DAY_NAMES = {1: N_("Mon"), 2: N_("Tue"), 3: N_("Wed"), 4: N_("Thu"), 5: N_("Fri"),
             6: N_("Sat"), 7: N_("Sun")}


def _lab_page(code: str) -> Response:
    return redirect(url_for("lab.lab_detail", code=code))


# -- a lab ---------------------------------------------------------------------------------


@bp.route("/labs/<code>")
@require("lab.view")
def lab_detail(code: str) -> str:
    r = ruang()
    with r.db.session() as session:
        lab = lab_or_404(session, code)
        prof = catalog.profile(session, lab.id)
        if (not lab.active or not prof.bookable) and not can(current_user, "lab.manage"):
            abort(404)
        summary = catalog.summary(session, lab)
        grid = rooms.seat_map(session, lab.id)
        start = at_local(today(), time(0))
        upcoming = []
        for day in range(14):
            upcoming += today_sessions(session, lab.id, today() + timedelta(days=day))
        closures = [h for h in holds.holds_between(session, start, start + timedelta(days=120),
                                                   lab.id) if h.kind == HoldKind.BLOCK]
        reservations = [h for h in holds.holds_between(session, start,
                                                       start + timedelta(days=60), lab.id)
                        if h.kind == HoldKind.RESERVATION]
        open_repairs = repairs.repairs(session, lab_id=lab.id, open_only=True)
        feed = None
        if can(current_user, "lab.manage"):
            with r.db.transaction() as writer:
                key = catalog.feed_key(writer, lab.id)
            feed = notices.link(url_for("lab.ical_feed", key=key))
        html = render_template(
            "lab/lab_detail.html", lab=lab, summary=summary, profile=prof, grid=grid,
            equipment=catalog.equipment(session, lab.id),
            software=catalog.software(session, lab.id), upcoming=upcoming, closures=closures,
            reservations=reservations, open_repairs=open_repairs, feed=feed,
            day_names=DAY_NAMES)
    return html


def _lab_fields() -> dict[str, Any]:
    form = request.form
    return {"code": form.get("code", ""), "name": form.get("name", ""),
            "rows": form.get("rows", ""), "cols": form.get("cols", ""),
            "building": form.get("building", ""), "floor": form.get("floor", ""),
            "notes": form.get("notes", ""), "active": form.get("active") == "on"}


def _profile_fields() -> dict[str, Any]:
    form = request.form
    return {"description": form.get("description", ""),
            "bookable": form.get("bookable") == "on",
            "open_from": form.get("open_from") or "07:00",
            "open_until": form.get("open_until") or "21:00",
            "open_days": [int(d) for d in form.getlist("open_days") if d.isdigit()]}


@bp.route("/labs/new", methods=["GET", "POST"])
@require("lab.manage")
def lab_new() -> Response | str | tuple[str, int]:
    error = ""
    if request.method == "POST":
        fields = _lab_fields()
        try:
            with ruang().db.transaction() as session:
                lab = rooms.create_lab(session, fields["code"], fields["name"],
                                       int(fields["rows"] or 0), int(fields["cols"] or 0),
                                       building=fields["building"], floor=fields["floor"],
                                       notes=fields["notes"], actor=current_user)
                catalog.save_profile(session, lab, _profile_fields(), current_user)
                code = lab.code
        except (rooms.RoomError, LabError, ValueError) as exc:
            error = refusal(exc)
        else:
            flash(_("Lab %(code)s was created with its seats.", code=code), "success")
            return redirect(url_for("lab.lab_edit", code=code))
    html = render_template("lab/lab_form.html", lab=None, profile=None, values=request.form,
                           error=error, day_names=DAY_NAMES)
    return (html, 400) if error else html


@bp.route("/labs/<code>/edit", methods=["GET", "POST"])
@require("lab.manage")
def lab_edit(code: str) -> Response | str | tuple[str, int]:
    r = ruang()
    error = ""
    if request.method == "POST":
        fields = _lab_fields()
        try:
            with r.db.transaction() as session:
                lab = lab_or_404(session, code)
                rooms.update_lab(session, lab, actor=current_user, **{
                    **fields, "rows": int(fields["rows"] or 0), "cols": int(fields["cols"] or 0)})
                catalog.save_profile(session, lab, _profile_fields(), current_user)
                new_code = lab.code
        except (rooms.RoomError, LabError, ValueError) as exc:
            error = refusal(exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("lab.lab_edit", code=new_code))
    with r.db.session() as session:
        lab = lab_or_404(session, code)
        html = render_template(
            "lab/lab_form.html", lab=lab, profile=catalog.profile(session, lab.id),
            values=request.form if error else None, error=error, day_names=DAY_NAMES,
            grid=rooms.seat_map(session, lab.id),
            equipment=catalog.equipment(session, lab.id),
            software=catalog.software(session, lab.id))
    return (html, 400) if error else html


@bp.route("/labs/<code>/seatmap", methods=["POST"])
@require("lab.manage")
def seatmap_save(code: str) -> Response:
    """The seat-map editor: the ticked cells are seats, the others are switched off."""
    wanted = {int(v) for v in request.form.getlist("seat") if v.isdigit()}
    changed = 0
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            for seat in rooms.seats_of(session, lab.id):
                if seat.row > lab.rows or seat.col > lab.cols:
                    continue
                if rooms.set_seat_active(session, seat, seat.id in wanted, actor=current_user,
                                         reason=_("seat-map editor")):
                    changed += 1
    except rooms.RoomError as exc:
        flash_refusal(exc)
    else:
        flash(_("Seat map saved (%(n)d seat(s) changed).", n=changed), "success")
    return redirect(url_for("lab.lab_edit", code=code) + "#seatmap")


# -- seats and PCs -------------------------------------------------------------------------


@bp.route("/labs/<code>/seats/<label>")
@require("lab.view")
def seat_detail(code: str, label: str) -> str:
    with ruang().db.session() as session:
        lab = lab_or_404(session, code)
        seat = seat_or_404(session, lab, label)
        device = rooms.device_at(session, seat.id)
        history = list(session.scalars(select(Repair).where(Repair.device_id == device.id)
                                       .order_by(Repair.reported_at.desc()))) if device else []
        html = render_template("lab/seat.html", lab=lab, seat=seat, device=device,
                               history=history, qr=_qr_svg(_report_url(seat)),
                               report_url=_report_url(seat),
                               can_manage=can(current_user, "lab.manage"))
    return html


@bp.route("/labs/<code>/seats/<label>/device", methods=["POST"])
@require("lab.manage")
def seat_device(code: str, label: str) -> Response:
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            seat = seat_or_404(session, lab, label)
            rooms.save_device(session, seat, asset_number=request.form.get("asset_number", ""),
                              hostname=request.form.get("hostname", ""),
                              notes=request.form.get("notes", ""), actor=current_user)
    except rooms.RoomError as exc:
        flash_refusal(exc)
    else:
        flash(_("The PC at %(seat)s was saved.", seat=label), "success")
    return redirect(url_for("lab.seat_detail", code=code, label=label))


@bp.route("/labs/<code>/seats/<label>/fault", methods=["POST"])
@require("lab.repair")
def seat_fault(code: str, label: str) -> Response:
    """Mark the PC faulty from the lab page; the repair request opens (and is sent)."""
    problem = request.form.get("problem", "")
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            seat = seat_or_404(session, lab, label)
            device = rooms.device_at(session, seat.id)
            if device is None:
                raise LabError(N_("There is no PC at seat %(seat)s."), seat=label)
            repair = repairs.report_fault(
                session, device, current_user, problem, source="lab_page",
                replace=request.form.get("replace") == "on",
                send_now=request.form.get("send_now") == "on")
            number, sent = repair.number, repair.state == "sent"
    except (LabError, rooms.RoomError) as exc:
        flash_refusal(exc)
        return redirect(url_for("lab.seat_detail", code=code, label=label))
    if sent:
        flash(_("PC %(seat)s is marked faulty; repair request %(number)s went to Biro Aset.",
                seat=label, number=number), "success")
    else:
        flash(_("PC %(seat)s is marked faulty; repair request %(number)s is open.",
                seat=label, number=number), "success")
    target = request.form.get("next", "")
    if target.startswith("/lab/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("lab.seat_detail", code=code, label=label))


def _report_url(seat: Seat) -> str:
    return notices.link(url_for("lab.report_seat", seat_id=seat.id))


def _qr_svg(data: str) -> Markup:
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg"):]  # without the XML declaration, to inline it
    return Markup(svg)  # noqa: S704 - produced by qrcode from our own URL, not user input


@bp.route("/labs/<code>/qr")
@require("lab.manage")
def qr_sheet(code: str) -> str:
    """A printable sheet of QR stickers, one per PC: scanning one opens the fault form."""
    with ruang().db.session() as session:
        lab = lab_or_404(session, code)
        stickers = []
        for seat in rooms.seats_of(session, lab.id, include_inactive=False):
            if seat.row > lab.rows or seat.col > lab.cols:
                continue
            device = rooms.device_at(session, seat.id)
            url = _report_url(seat)
            stickers.append({"seat": seat, "device": device, "url": url, "svg": _qr_svg(url)})
        html = render_template("lab/qr_sheet.html", lab=lab, stickers=stickers)
    return html


@bp.route("/seats/<int:seat_id>/report", methods=["GET", "POST"])
@require("lab.report_fault")
def report_seat(seat_id: int) -> Response | str:
    """The page a QR sticker opens: anyone signed in reports the PC at this seat."""
    return _report_page(seat_id, source="seat", actor=current_user)


@bp.route("/kiosk/report", methods=["GET", "POST"])
@public
def report_kiosk() -> Response | str:
    """The same form, opened in a lab PC's kiosk browser: the kiosk's token says which seat."""
    with ruang().db.session() as session:
        kiosk = kiosks.kiosk_from_request(session)
        if kiosk is None:
            abort(403, description=_("This page only opens on an enrolled lab PC."))
        seat_id = kiosk.seat_id
        kiosk_ref = f"kiosk:{kiosk.id}"
    return _report_page(seat_id, source="kiosk", actor=None, source_ref=kiosk_ref)


def _report_page(seat_id: int, *, source: str, actor: Any, source_ref: str = "") -> Response | str:
    r = ruang()
    sent = None
    error = ""
    if request.method == "POST":
        problem = request.form.get("problem", "")
        try:
            with r.db.transaction() as session:
                seat = session.get(Seat, seat_id)
                device = rooms.device_at(session, seat_id) if seat else None
                if seat is None or device is None:
                    abort(404)
                repair = repairs.report_fault(session, device, actor, problem, source=source,
                                              source_ref=source_ref)
                sent = repair.number
        except LabError as exc:
            error = exc.translated()
    with r.db.session() as session:
        seat = session.get(Seat, seat_id)
        if seat is None:
            abort(404)
        lab = session.get(Lab, seat.lab_id)
        device = rooms.device_at(session, seat_id)
        html = render_template("lab/report_fault.html", lab=lab, seat=seat, device=device,
                               sent=sent, error=error, kiosk=source == "kiosk")
    return html


# -- bulk import ---------------------------------------------------------------------------


@bp.route("/labs/<code>/import", methods=["GET", "POST"])
@require("lab.manage")
def import_pcs(code: str) -> str | tuple[str, int]:
    r = ruang()
    report = None
    error = ""
    if request.method == "POST":
        upload = request.files.get("file")
        dry_run = request.form.get("dry_run") == "on"
        if upload is None or not upload.filename:
            error = _("Choose an XLSX file.")
        else:
            data = io.BytesIO(upload.read())
            try:
                with r.db.transaction() as session:
                    lab = lab_or_404(session, code)
                    report = importer.import_pcs(session, lab, data, current_user,
                                                 dry_run=dry_run)
            except LabError as exc:
                error = exc.translated()
    with r.db.session() as session:
        lab = lab_or_404(session, code)
        html = render_template("lab/import.html", lab=lab, report=report, error=error)
    return (html, 400) if error else html


@bp.route("/labs/<code>/import/template.xlsx")
@require("lab.manage")
def import_template(code: str) -> Response:
    with ruang().db.session() as session:
        lab = lab_or_404(session, code)
        data = importer.template(session, lab)
    return send_file(io.BytesIO(data), download_name=f"pc-{lab.code}.xlsx", as_attachment=True,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- equipment and software ----------------------------------------------------------------


@bp.route("/labs/<code>/equipment", methods=["POST"])
@require("lab.manage")
def equipment_add(code: str) -> Response:
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            catalog.add_equipment(session, lab, request.form.to_dict(), current_user)
    except LabError as exc:
        flash_refusal(exc)
    else:
        flash(_("Equipment added."), "success")
    return redirect(url_for("lab.lab_edit", code=code) + "#equipment")


@bp.route("/equipment/<int:item_id>", methods=["POST"])
@require("lab.manage")
def equipment_change(item_id: int) -> Response:
    with ruang().db.transaction() as session:
        item = session.get(Equipment, item_id)
        if item is None:
            abort(404)
        lab = session.get(Lab, item.lab_id)
        code = lab.code if lab else ""
        try:
            if request.form.get("action") == "delete":
                catalog.remove_equipment(session, item, current_user)
            else:
                catalog.update_equipment(session, item, request.form.to_dict(), current_user)
        except LabError as exc:
            flash_refusal(exc)
    return redirect(url_for("lab.lab_edit", code=code) + "#equipment")


@bp.route("/labs/<code>/software", methods=["POST"])
@require("lab.manage")
def software_add(code: str) -> Response:
    with ruang().db.transaction() as session:
        lab = lab_or_404(session, code)
        added, problems = catalog.add_software_lines(session, lab,
                                                     request.form.get("lines", ""), current_user)
    if added:
        flash(_("%(n)d program(s) added.", n=added), "success")
    for problem in problems:
        flash(problem, "error")
    return redirect(url_for("lab.lab_edit", code=code) + "#software")


@bp.route("/software/<int:item_id>/delete", methods=["POST"])
@require("lab.manage")
def software_delete(item_id: int) -> Response:
    with ruang().db.transaction() as session:
        item = session.get(Software, item_id)
        if item is None:
            abort(404)
        lab = session.get(Lab, item.lab_id)
        code = lab.code if lab else ""
        catalog.remove_software(session, item, current_user)
    return redirect(url_for("lab.lab_edit", code=code) + "#software")


# -- closures and the feed -----------------------------------------------------------------


@bp.route("/labs/<code>/closures", methods=["POST"])
@require("lab.manage")
def closure_add(code: str) -> Response:
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        last = date.fromisoformat(request.form.get("last_day") or request.form.get("day", ""))
        start_t = time.fromisoformat(request.form.get("start_time") or "00:00")
        end_t = time.fromisoformat(request.form.get("end_time") or "23:59")
    except ValueError:
        flash(_("Give the dates as YYYY-MM-DD and the times as HH:MM."), "error")
        return _lab_page(code)
    start, end = at_local(day, start_t), at_local(last, end_t)
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            live.block(session, lab, start, end, request.form.get("reason", ""), current_user)
    except LabError as exc:
        flash_refusal(exc)
    else:
        flash(_("The lab is closed from %(start)s to %(end)s.",
                start=local(start).strftime("%d-%m-%Y %H:%M"),
                end=local(end).strftime("%d-%m-%Y %H:%M")), "success")
    return _lab_page(code)


@bp.route("/closures/<reference>/delete", methods=["POST"])
@require("lab.manage")
def closure_delete(reference: str) -> Response:
    code = request.form.get("code", "")
    try:
        with ruang().db.transaction() as session:
            live.unblock(session, reference, current_user)
    except LabError as exc:
        flash_refusal(exc)
    else:
        flash(_("The closure was removed."), "success")
    return _lab_page(code) if code else redirect(url_for("lab.index"))


@bp.route("/labs/<code>/feed-key", methods=["POST"])
@require("lab.manage")
def feed_key_reset(code: str) -> Response:
    with ruang().db.transaction() as session:
        lab = lab_or_404(session, code)
        catalog.new_feed_key(session, lab, current_user)
    flash(_("The calendar address was replaced; subscriptions to the old one stop."), "success")
    return _lab_page(code)


__all__ = ["Device", "utcnow"]
