"""Participants: the list, invitations, imports, walk-ins, joining on the portal, and
attendance (the scanner page, the check-in address a QR code opens, staff's buttons)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.accounts.roles import DIVISION_LABELS, Division
from core.instance import ruang
from plugins.training import participants, service, tokens
from plugins.training.errors import N_, TrainingError
from plugins.training.forms import form_dict
from plugins.training.models import Participant, Training
from plugins.training.views import bp
from plugins.training.views.common import refusal, refuse, training_or_404


@bp.route("/<int:training_id>/participants")
@require("training.view_all")
def people(training_id: int) -> str:
    status = request.args.get("status", "")
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        rows = participants.of_training(session, training.id, status=status or None)
        counts = service.counts(session, training.id)
    divisions = [(d.value, DIVISION_LABELS[d]) for d in Division]
    return render_template("training/participants.html", training=training, rows=rows,
                           counts=counts, status=status, divisions=divisions)


def _done(training_id: int) -> Response:
    return redirect(url_for(".people", training_id=training_id))


@bp.post("/<int:training_id>/invite")
@require("training.manage")
def invite(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            result = participants.invite(session, training, [form_dict(request.form)],
                                         current_user)
        _say(result)
    except TrainingError as exc:
        return refuse(exc, ".people", training_id=training_id)
    return _done(training_id)


def _say(result: participants.InviteResult, verb: str = "invited") -> None:
    if verb == "registered":
        flash(_("%(n)s added; %(skipped)s were on the list already.", n=len(result.invited),
                skipped=len(result.skipped)), "success")
    else:
        flash(_("%(n)s invited; %(skipped)s were on the list already.", n=len(result.invited),
                skipped=len(result.skipped)), "success")


@bp.post("/<int:training_id>/invite-group")
@require("training.manage")
def invite_group(training_id: int) -> Response:
    group = request.form.get("group", "")
    division = request.form.get("division", "")
    if division and division not in {d.value for d in Division}:
        division = ""
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            rows = participants.group_members(session, group, division)
            if not rows:
                raise TrainingError(N_("Nobody with an e-mail address is in that group."),
                                    kind="empty")
            result = participants.invite(session, training, rows, current_user)
        _say(result)
    except TrainingError as exc:
        return refuse(exc, ".people", training_id=training_id)
    return _done(training_id)


@bp.post("/<int:training_id>/import")
@require("training.manage")
def import_people(training_id: int) -> Response:
    upload = request.files.get("file")
    mode = "register" if request.form.get("mode") == "register" else "invite"
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return _done(training_id)
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            result = participants.import_file(session, training, upload.filename,
                                              upload.read(), current_user, mode=mode)
        _say(result, "registered" if mode == "register" else "invited")
    except TrainingError as exc:
        return refuse(exc, ".people", training_id=training_id)
    return _done(training_id)


@bp.post("/<int:training_id>/register")
@require("training.manage")
def register(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            person = participants.register(session, training, form_dict(request.form),
                                           current_user)
            status = person.status
        flash(_("%(name)s: %(status)s.", name=person.name,
                status=participants.status_label(status)), "success")
    except TrainingError as exc:
        return refuse(exc, ".people", training_id=training_id)
    return _done(training_id)


def _person_action(training_id: int, participant_id: int, action: str) -> Response:
    back = request.form.get("back", "")
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            person = participants.get(session, training, participant_id)
            if action == "cancel":
                participants.cancel(session, training, person, current_user)
                message = _("%(name)s was withdrawn.", name=person.name)
            elif action == "checkin":
                done = participants.check_in(session, training, person, current_user, "staff")
                message = (_("%(name)s was already checked in.", name=person.name)
                           if done.already else _("%(name)s is present.", name=person.name))
            else:
                participants.undo_check_in(session, training, person, current_user)
                message = _("The check-in of %(name)s was undone.", name=person.name)
        flash(message, "success")
    except TrainingError as exc:
        flash(refusal(exc), "error")
    if back == "supervision":
        return redirect(url_for(".supervision", training_id=training_id))
    return _done(training_id)


@bp.post("/<int:training_id>/participants/<int:participant_id>/cancel")
@require("training.manage")
def withdraw(training_id: int, participant_id: int) -> Response:
    return _person_action(training_id, participant_id, "cancel")


@bp.post("/<int:training_id>/participants/<int:participant_id>/checkin")
@require("training.checkin")
def staff_checkin(training_id: int, participant_id: int) -> Response:
    return _person_action(training_id, participant_id, "checkin")


@bp.post("/<int:training_id>/participants/<int:participant_id>/undo")
@require("training.manage")
def undo_checkin(training_id: int, participant_id: int) -> Response:
    return _person_action(training_id, participant_id, "undo")


# -- QR check-in -----------------------------------------------------------------------------


@bp.route("/<int:training_id>/scan")
@require("training.checkin")
def scan(training_id: int) -> str:
    with ruang().db.session() as session:
        training = session.get(Training, training_id)
        if training is None:
            abort(404)
        counts = service.counts(session, training.id)
    return render_template("training/scan.html", training=training, counts=counts)


@bp.post("/<int:training_id>/scan")
@require("training.checkin")
def scan_post(training_id: int) -> tuple[Response, int]:
    """The scanner page posts what it read (the token or the whole check-in address)."""
    body = request.get_json(silent=True)
    code = body.get("code") if isinstance(body, dict) else request.form.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 500:
        return jsonify(ok=False, error="invalid", message=_("Nothing was read.")), 400
    data = tokens.read_checkin_token(code)
    if data is None:
        return jsonify(ok=False, error="unknown",
                       message=_("This is not a check-in code of Ruang.")), 404
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            person = session.get(Participant, data.participant_id)
            if person is None or data.training_id != training.id:
                raise TrainingError(N_("This code belongs to another training."),
                                    kind="wrong_training", http=409)
            done = participants.check_in(session, training, person, current_user, "qr")
            counts = service.counts(session, training.id)
            answer = {"ok": True, "already": done.already, "name": person.name,
                      "unit": person.unit, "attended": counts["attended"],
                      "registered": counts["registered"],
                      "message": (_("%(name)s was already checked in.", name=person.name)
                                  if done.already else
                                  _("Welcome, %(name)s!", name=person.name))}
    except TrainingError as exc:
        return jsonify(ok=False, error=exc.kind, message=exc.translated()), exc.http
    return jsonify(answer), 200


@bp.route("/checkin/<token>", methods=["GET", "POST"])
@require("training.checkin")
def checkin_link(token: str) -> Any:
    """What a staff member's phone opens when it scans a participant's QR code."""
    data = tokens.read_checkin_token(token)
    if data is None:
        abort(404, description=_("This is not a check-in code of Ruang."))
    r = ruang()
    result: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with r.db.transaction() as session:
                training = service.get(session, data.training_id)
                person = participants.get(session, training, data.participant_id)
                done = participants.check_in(session, training, person, current_user, "qr")
                result = {"ok": True, "already": done.already}
        except TrainingError as exc:
            result = {"ok": False, "message": exc.translated()}
    with r.db.session() as session:
        found = session.get(Training, data.training_id)
        who = session.get(Participant, data.participant_id)
        if found is None or who is None or who.training_id != found.id:
            abort(404, description=_("This is not a check-in code of Ruang."))
    status = 409 if result and not result["ok"] else 200
    return render_template("training/checkin.html", training=found, person=who,
                           result=result), status


@bp.route("/<int:training_id>/badges")
@require("training.view_all")
def badges(training_id: int) -> str:
    """Name cards with each registered participant's QR code, to print."""
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        rows = participants.of_training(session, training.id, status="registered")
    cards = [(p, Markup(tokens.qr_svg(tokens.checkin_url(p.id, training.id)))) for p in rows]  # noqa: S704 - qrcode drew it
    return render_template("training/badges.html", training=training, cards=cards)


# -- the portal ------------------------------------------------------------------------------


@bp.post("/<int:training_id>/join")
@require("training.join")
def join(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            if not service.may_see(session, training, current_user):
                abort(404)
            person = participants.self_register(session, training, current_user)
            status = person.status
            page = tokens.page_url(person.id, training.id)
        flash(_("You are registered.") if status == "registered"
              else _("The training is full; you are on the waiting list."), "success")
    except TrainingError as exc:
        return refuse(exc, ".show", training_id=training_id)
    return redirect(page)


@bp.post("/<int:training_id>/leave")
@require("training.join")
def leave(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            person = service.participant_of(session, training, current_user)
            if person is None:
                raise TrainingError(N_("You are not on the list of this training."),
                                    kind="not_found", http=404)
            participants.cancel(session, training, person, current_user)
        flash(_("You have withdrawn."), "success")
    except TrainingError as exc:
        return refuse(exc, ".show", training_id=training_id)
    return redirect(url_for(".show", training_id=training_id))
