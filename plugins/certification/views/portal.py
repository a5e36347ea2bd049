"""The public certification portal, and the old addresses of the certificate check.

Anyone sees the catalogue, with remaining seats refreshed live from a small JSON endpoint
(``portal_seats``). Members of the university register signed in; outsiders type their
details once and confirm their address through a mailed one-time link, which also signs
them in to the portal (their participant id is kept in the signed session cookie).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import public
from core.instance import ruang
from plugins.certification import certificates, participants, registrations
from plugins.certification.clock import now
from plugins.certification.errors import N_, CertError
from plugins.certification.flows import PUBLIC_STATES
from plugins.certification.models import (
    ACTIVE,
    CertField,
    CertParticipant,
    CertProgramme,
    ProgrammeState,
)
from plugins.certification.views import bp, get_or_404, refuse, wants_json

SESSION_KEY = "cert_participant"


def _db() -> Any:
    return ruang().db


def current_participant_id(s: Session) -> int | None:
    """The participant behind this request: the signed-in account's, else the portal's."""
    if current_user.is_authenticated:
        p = participants.of_user(s, current_user, create=False)
        return p.id if p is not None else None
    value = session.get(SESSION_KEY)
    return int(value) if isinstance(value, int) else None


def _public_or_404(s: Session, programme_id: int) -> CertProgramme:
    prog = s.get(CertProgramme, programme_id)
    if prog is None or prog.state not in PUBLIC_STATES:
        abort(404)
    return prog


def _seat_row(f: CertField, waiting: int) -> dict[str, Any]:
    return {"id": f.id, "code": f.code, "quota": f.quota, "taken": f.seats_held,
            "remaining": max(0, f.quota - f.seats_held), "waiting": waiting, "open": f.open}


@bp.route("/portal/")
@public
def portal() -> str:
    with _db().session() as s:
        rows = list(s.scalars(select(CertProgramme).where(
            CertProgramme.state.in_(PUBLIC_STATES)).order_by(
            CertProgramme.state != ProgrammeState.PUBLISHED.value,
            CertProgramme.registration_closes_at, CertProgramme.id.desc())))
        fields = {p.id: list(p.fields) for p in rows}
    return render_template("certification/portal.html", rows=rows, fields=fields, now=now())


@bp.route("/portal/programmes/<int:programme_id>")
@public
def portal_programme(programme_id: int) -> str:
    with _db().session() as s:
        prog = _public_or_404(s, programme_id)
        fields = list(prog.fields)
        sessions = {f.id: list(f.sessions) for f in fields}
        waiting = {f.id: registrations.waiting(s, f.id) for f in fields}
        pid = current_participant_id(s)
        mine = {}
        if pid is not None:
            for f in fields:
                reg = registrations.active_of(s, pid, f.id)
                if reg is not None:
                    mine[f.id] = reg
        window = registrations.window_problem(prog, now())
        vendor = None
        if prog.vendor_id:
            from plugins.certification.models import CertVendor

            vendor = s.get(CertVendor, prog.vendor_id)
    return render_template("certification/portal_programme.html", prog=prog, fields=fields,
                           sessions=sessions, waiting=waiting, mine=mine, window=window,
                           vendor=vendor)


@bp.route("/portal/seats.json")
@public
def portal_seats() -> Response:
    """Remaining seats of one programme's fields, polled by the portal page."""
    programme_id = request.args.get("programme", "")
    if not programme_id.isdigit():
        return _json_error("bad_request", _("Say which programme: ?programme=<id>."), 400)
    with _db().session() as s:
        prog = _public_or_404(s, int(programme_id))
        rows = [_seat_row(f, registrations.waiting(s, f.id)) for f in prog.fields]
        open_now = registrations.window_problem(prog, now()) is None
    response = jsonify(programme=prog.id, open=open_now, fields=rows, at=now().isoformat())
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_error(kind: str, message: str, status: int) -> Response:
    response = jsonify(ok=False, error=kind, message=message)
    response.status_code = status
    return response


@bp.route("/portal/fields/<int:field_id>/register", methods=["GET", "POST"])
@public
def portal_register(field_id: int) -> Any:
    with _db().session() as s:
        f = get_or_404(s, CertField, field_id)
        prog = _public_or_404(s, f.programme_id)
        pid = current_participant_id(s)
        p = s.get(CertParticipant, pid) if pid is not None else None
        existing = registrations.active_of(s, pid, f.id) if pid is not None else None
        waiting = registrations.waiting(s, f.id)
    if request.method == "GET":
        return render_template("certification/portal_register.html", f=f, prog=prog, p=p,
                               existing=existing, waiting=waiting, values={})
    if current_user.is_authenticated or p is not None:
        return _register(field_id, p)
    return _ask_for_link(f, prog)


def _register(field_id: int, p: CertParticipant | None) -> Any:
    try:
        if current_user.is_authenticated:
            with _db().transaction() as s:
                me = participants.of_user(s, current_user)
                assert me is not None
                pid = me.id
        else:
            assert p is not None
            pid = p.id
        outcome = registrations.register_now(_db(), field_id, pid, actor=None)
    except CertError as exc:
        return refuse(exc) or redirect(url_for("certification.portal_register",
                                               field_id=field_id))
    if wants_json():
        return jsonify(ok=True, registration=outcome.code, status=outcome.status,
                       seat=outcome.seat_no, position=outcome.position)
    if outcome.status == "confirmed":
        flash(_("You are registered: seat %(seat)s, registration %(code)s. We sent you an "
                "e-mail.", seat=outcome.seat_no, code=outcome.code), "success")
    else:
        flash(_("The field is full: you are number %(n)s on the waiting list (registration "
                "%(code)s). We will e-mail you when a seat is free.", n=outcome.position,
                code=outcome.code), "info")
    return redirect(url_for("certification.portal_me"))


def _ask_for_link(f: CertField, prog: CertProgramme) -> Any:
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        form = participants.check_external(values)
        if f.audience == "internal":
            raise CertError(N_("%(field)s is open to members of the university only: sign in "
                            "with your account."), kind="not_eligible", http=403, field=f.name)
        with _db().transaction() as s:
            p = participants.external(s, form, locale=str(get_locale() or ""))
            participants.send_link(s, p, url_for("certification.portal_register",
                                                 field_id=f.id))
    except CertError as exc:
        answer = refuse(exc)
        if answer is not None:
            return answer
        return render_template("certification/portal_register.html", f=f, prog=prog, p=None,
                               existing=None, waiting=0, values=values), exc.http
    if wants_json():
        return jsonify(ok=True, status="link_sent")
    return render_template("certification/portal_link_sent.html", email=form.email)


@bp.route("/portal/link/<token>")
@public
def portal_link(token: str) -> Response:
    try:
        with _db().transaction() as s:
            p, next_path = participants.use_link(s, token)
            pid = p.id
    except CertError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("certification.portal_signin"))
    session[SESSION_KEY] = pid
    session.permanent = True
    flash(_("Your e-mail address is confirmed and you are signed in to the portal."), "success")
    return redirect(next_path or url_for("certification.portal_me"))


@bp.route("/portal/signin", methods=["GET", "POST"])
@public
def portal_signin() -> Any:
    if request.method == "GET":
        return render_template("certification/portal_signin.html")
    email = request.form.get("email", "").strip().lower()
    try:
        with _db().transaction() as s:
            p = participants.by_email(s, email)
            if p is not None and p.user_id is None:
                participants.send_link(s, p)
    except CertError as exc:
        flash(exc.translated(), "error")
        return render_template("certification/portal_signin.html"), exc.http
    # The same answer whether or not the address is known: the form must not reveal who
    # has registered.
    return render_template("certification/portal_link_sent.html", email=email)


@bp.post("/portal/signout")
@public
def portal_signout() -> Response:
    session.pop(SESSION_KEY, None)
    flash(_("You are signed out of the certification portal."), "success")
    return redirect(url_for("certification.portal"))


@bp.route("/portal/me")
@public
def portal_me() -> Any:
    with _db().session() as s:
        pid = current_participant_id(s)
        if pid is None:
            if current_user.is_authenticated:
                return render_template("certification/portal_me.html", p=None, rows=[],
                                       positions={}, certs={})
            return redirect(url_for("certification.portal_signin"))
        p = s.get(CertParticipant, pid)
        rows = registrations.of_participant(s, pid)
        positions = {r.id: registrations.position(s, r) for r in rows}
        certs = {r.id: certificates.of_registration(s, r.id) for r in rows}
        for r in rows:
            _ = (r.field.programme.title, r.field.name)  # load before the session closes
    return render_template("certification/portal_me.html", p=p, rows=rows, positions=positions,
                           certs=certs, active=ACTIVE)


@bp.post("/portal/registrations/<code>/<any(cancel, accept, decline):action>")
@public
def portal_action(code: str, action: str) -> Any:
    try:
        with _db().transaction() as s:
            reg = registrations.by_code(s, code)
            pid = current_participant_id(s)
            if reg is None or pid is None or reg.participant_id != pid:
                abort(404)
            if action == "cancel":
                registrations.cancel(s, reg, reason=request.form.get("reason", ""))
                message = _("Registration %(code)s cancelled.", code=reg.code)
            elif action == "accept":
                registrations.accept_offer(s, reg)
                message = _("Seat accepted: you are confirmed (seat %(seat)s).",
                            seat=reg.seat_no)
            else:
                registrations.decline_offer(s, reg)
                message = _("Offer declined; the seat goes to the next person waiting.")
            status = reg.status
    except CertError as exc:
        return refuse(exc) or redirect(url_for("certification.portal_me"))
    if wants_json():
        return jsonify(ok=True, registration=code, status=status)
    flash(message, "success")
    return redirect(url_for("certification.portal_me"))


# -- certificate check -----------------------------------------------------------------------
# The check moved to the core's page; addresses already printed in QR codes keep working.


@bp.route("/verify/<code>")
@public
def verify(code: str) -> Response:
    args: dict[str, Any] = {**request.args.to_dict(), "code": code}
    return redirect(url_for("certificates.verify", **args), code=301)


@bp.route("/verify")
@public
def verify_lookup() -> Response:
    args: dict[str, Any] = request.args.to_dict()
    return redirect(url_for("certificates.verify", **args), code=301)
