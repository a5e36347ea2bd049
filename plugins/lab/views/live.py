"""The live lab: seat map with online, in-use and faulty PCs, the session now, the usage log."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from plugins.lab import live, people
from plugins.lab.errors import N_, LabError
from plugins.lab.flows import LAB_REQUEST
from plugins.lab.views import bp
from plugins.lab.views.common import flash_refusal, lab_or_404, seat_or_404

STATE_LABELS = {
    "faulty": N_("faulty"), "in_repair": N_("in repair"), "in_use": N_("in use"),
    "online": N_("online, free"), "offline": N_("offline"), "no_device": N_("no PC"),
    "inactive": N_("no seat"),
}


@bp.route("/labs/<code>/live")
@require("lab.live")
def live_view(code: str) -> str:
    with ruang().db.session() as session:
        lab = lab_or_404(session, code)
        state = live.live(session, lab)
        log = live.usage_log(session, lab_id=lab.id, limit=40)
        names = {e.actor_id: people.name_of(session, e.actor_id) for e in log if e.actor_id}
        allowed: set[str] = set()
        if state.current is not None:
            allowed = {t.action for t in LAB_REQUEST.allowed(state.current[1], current_user)}
        html = render_template("lab/live.html", lab=lab, state=state, log=log, names=names,
                               labels=STATE_LABELS, allowed=allowed)
    return html


@bp.route("/labs/<code>/live.json")
@require("lab.live")
def live_json(code: str) -> Response:
    with ruang().db.session() as session:
        lab = lab_or_404(session, code)
        data = live.live(session, lab).as_json()
    data["labels"] = {k: _(v) for k, v in STATE_LABELS.items()}
    return jsonify(data)


def _back(code: str) -> Response:
    return redirect(url_for("lab.live_view", code=code))


@bp.route("/labs/<code>/seats/<label>/take", methods=["POST"])
@require("lab.live")
def seat_take(code: str, label: str) -> Response:
    occupant = request.form.get("occupant", "")
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            seat = seat_or_404(session, lab, label)
            current = live.current_session(session, lab.id)
            if current is None:
                raise LabError(N_("No session is checked in in this lab."))
            live.take_seat(session, current[0], seat, occupant, current_user)
    except LabError as exc:
        flash_refusal(exc)
    else:
        flash(_("Seat %(seat)s is in use.", seat=label), "success")
    return _back(code)


@bp.route("/labs/<code>/seats/<label>/free", methods=["POST"])
@require("lab.live")
def seat_free(code: str, label: str) -> Response:
    with ruang().db.transaction() as session:
        lab = lab_or_404(session, code)
        seat = seat_or_404(session, lab, label)
        freed = live.free_seat(session, seat, current_user)
    if freed:
        flash(_("Seat %(seat)s is free.", seat=label), "success")
    return _back(code)


@bp.route("/labs/<code>/note", methods=["POST"])
@require("lab.live")
def usage_note(code: str) -> Response:
    try:
        with ruang().db.transaction() as session:
            lab = lab_or_404(session, code)
            current = live.current_session(session, lab.id)
            live.note(session, lab, request.form.get("text", ""), current_user,
                      current[0] if current else None)
    except LabError as exc:
        flash_refusal(exc)
    return _back(code)
