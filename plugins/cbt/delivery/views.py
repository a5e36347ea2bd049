"""HTTP side of delivery: the kiosk's exam page, sign-in, the encrypted paper; the proctor's
exam room (token, start, login resets) and a lab's Safe Exam Browser rule.

Kiosk routes are open to guests (a lab PC has no account): the kiosk's enrolment token
(header ``X-Kiosk-Token``, or the cookie for the page itself) and then the candidate's
login secret (header ``X-Attempt-Login``) authenticate them. JSON POSTs carry the page's
CSRF token like every other form of Ruang.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from werkzeug.wrappers import Response

import kiosk as kiosk_pkg
from core.accounts.access import public, require
from core.db import utcnow
from core.instance import ruang
from core.rooms import kiosks
from core.rooms.models import Lab
from plugins.cbt.delivery import attempts, integrity, proctor, seatmap, texts, tokens
from plugins.cbt.delivery.attempts import DeliveryError, login_hash, same_login
from plugins.cbt.delivery.models import DeliveryAttempt, LabPolicy, SessionStart
from plugins.cbt.delivery.push import NAMESPACE, ms
from plugins.cbt.delivery.signin import sign_in
from plugins.cbt.delivery.sockets import PROTOCOL
from plugins.cbt.models import CbtSession

bp = Blueprint("cbt_delivery", __name__, template_folder="templates",
               static_folder="static", static_url_path="/cbt/delivery/static")

_ = texts.t  # English msgids, Indonesian from the catalogue or from texts (see there)
LOGIN_HEADER = "X-Attempt-Login"
STATUS = {"not_enrolled": 401, "wrong": 401, "logged_out": 401, "throttled": 429,
          "seb_required": 403, "invalid": 400}


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=100)


def _problem(code: str, detail: str = "", **extra: Any) -> tuple[Response, int]:
    resp = jsonify(ok=False, error=code, message=texts.error(code, detail), **extra)
    resp.headers["Cache-Control"] = "no-store"
    if code == "throttled" and detail.isdigit():
        resp.headers["Retry-After"] = detail
    return resp, STATUS.get(code, 409)


def _asset(package: str, path: str) -> str:
    from core.web.assets import asset_url

    return asset_url(package, path)


# -- the kiosk ------------------------------------------------------------------------------


@bp.route("/cbt/kiosk/")
@public
def page() -> Response | str:
    """The exam page of an enrolled kiosk; anything else goes to the enrolment page."""
    r = ruang()
    with r.db.session() as s:
        kiosk = kiosks.kiosk_from_request(s)
        if kiosk is None:
            return redirect(url_for("kiosk.page"))
        lab, seat = kiosks.kiosk_place(s, kiosk)
    html = render_template(
        "kiosk/exam.html",
        place={"lab": lab.name, "lab_code": lab.code, "seat": seat.label},
        texts=texts.ui(), protocol=PROTOCOL, namespace=NAMESPACE,
        token_key=kiosk_pkg.TOKEN_STORAGE_KEY,
        socket_io_url=_asset("socket.io-client", "dist/socket.io.min.js"),
        katex_css=_asset("katex", "dist/katex.min.css"),
        katex_js=_asset("katex", "dist/katex.min.js"),
        katex_auto=_asset("katex", "dist/contrib/auto-render.min.js"),
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/cbt/kiosk/signin", methods=["POST"])
@public
def signin() -> Response | tuple[Response, int]:
    try:
        body = SignInIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError:
        return _problem("wrong")
    token = kiosks.token_from_request()
    seb = (request.url, request.headers.get(integrity.HEADER, ""))
    try:
        done = sign_in(ruang().db, token, body.number, body.password,
                       ip=request.remote_addr or "", seb=seb)
    except DeliveryError as exc:
        return _problem(exc.code, exc.detail)
    resp = jsonify(
        ok=True, attempt=done.attempt_id, login=done.login, state=done.state,
        candidate=done.candidate, exam=done.exam,
        session={"id": done.session["id"], "lab": done.session["lab"],
                 "starts_at": ms(done.session["starts_at"]),
                 "ends_at": ms(done.session["ends_at"])},
        paper=url_for("cbt_delivery.paper", attempt_id=done.attempt_id), now=ms(utcnow()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/cbt/kiosk/paper/<int:attempt_id>")
@public
def paper(attempt_id: int) -> Response | tuple[Response, int]:
    """The encrypted paper: only for the kiosk the candidate signed in on."""
    secret = request.headers.get(LOGIN_HEADER, "")
    with ruang().db.session() as s:
        kiosk = kiosks.kiosk_from_request(s)
        if kiosk is None:
            return _problem("not_enrolled")
        d = s.get(DeliveryAttempt, attempt_id)
        if d is None or d.kiosk_id != kiosk.id or not same_login(d.login_hash,
                                                                 login_hash(secret)):
            return _problem("logged_out")
        envelope = d.paper_enc
    resp = Response(envelope, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- the proctor's exam room -----------------------------------------------------------------


def _may_proctor(cbt_session: CbtSession) -> bool:
    return proctor.may_proctor(current_user, cbt_session)


def _room_session(session_id: int) -> CbtSession:
    with ruang().db.session() as s:
        found = s.get(CbtSession, session_id)
    if found is None:
        abort(404)
    if not _may_proctor(found):
        abort(403)
    return found


@bp.route("/cbt/exam-rooms")
@require("cbt.proctor")
def rooms() -> str:
    now = utcnow()
    with ruang().db.session() as s:
        rows = [c for c in s.scalars(
            select(CbtSession).where(CbtSession.ends_at >= now - timedelta(hours=12),
                                     CbtSession.status != "cancelled")
            .order_by(CbtSession.starts_at)) if _may_proctor(c)]
    return render_template("cbt_delivery/rooms.html", sessions=rows, _=_)


def room_status(session_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The room as a poll sees it: token and every candidate's state (the live page uses
    the ``/proctor`` socket; this stays for scripts and the load tests)."""
    r = ruang()
    now = now or utcnow()
    token, changes = tokens.current(r.db, session_id, now)
    with r.db.session() as s:
        start = s.get(SessionStart, session_id)
        seats = seatmap.seats(s, session_id, now=now)
    rows = [{
        "candidate": c["n"], "name": c["nm"], "seat": c["st"], "attempt": c["a"],
        "state": c["s"], "answered": c["q"], "flagged": c["f"], "total": c["t"],
        "locked": c["lk"], "late": c["late"], "online": c["on"], "warnings": c["w"],
        "remaining_s": _remaining(c, now) if c["a"] else None,
    } for c in seats]
    return {"token": token, "token_changes": ms(changes), "now": ms(now),
            "started": ms(start.started_at) if start else None, "candidates": rows}


def _remaining(seat: dict[str, Any], now: datetime) -> int:
    if seat["dl"] is None:
        return 0
    at = seat["pa"] if seat["pa"] is not None else ms(now)
    return max(0, int((seat["dl"] - (at or 0)) // 1000))


@bp.route("/cbt/exam-rooms/<int:session_id>")
@require("cbt.proctor")
def room(session_id: int) -> str:
    cbt_session = _room_session(session_id)
    status = room_status(session_id)
    with ruang().db.session() as s:
        found = proctor.incidents(s, session_id)
    return render_template(
        "cbt_delivery/room.html", cbt_session=cbt_session, status=status, _=_,
        labels=texts.room_labels(), room_texts=texts.room_texts(), incidents=found,
        categories=proctor.CATEGORIES,
        socket_io_url=_asset("socket.io-client", "dist/socket.io.min.js"),
        namespace=seatmap.NAMESPACE)


@bp.route("/cbt/exam-rooms/<int:session_id>/project")
@require("cbt.proctor")
def room_project(session_id: int) -> str:
    """The token alone, as large as the screen allows, for the projector of the room."""
    cbt_session = _room_session(session_id)
    token, changes = tokens.current(ruang().db, session_id)
    return render_template("cbt_delivery/project.html", cbt_session=cbt_session, token=token,
                           changes=ms(changes), _=_)


@bp.route("/cbt/exam-rooms/<int:session_id>/token")
@require("cbt.proctor")
def room_token(session_id: int) -> Response:
    _room_session(session_id)
    token, changes = tokens.current(ruang().db, session_id)
    resp = jsonify(token=token, changes=ms(changes), now=ms(utcnow()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


class ActionIn(BaseModel):
    """A proctor's action as the room page posts it (JSON or a form)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    action: Literal["admit", "refuse", "extend", "pause", "resume", "lock", "unlock", "reset",
                    "force_submit", "reopen", "message", "incident"]
    attempt: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", max_length=proctor.MAX_REASON)
    minutes: int | None = Field(default=0, ge=-600, le=600)
    text: str = Field(default="", max_length=proctor.MAX_INCIDENT)
    category: Literal["technical", "conduct", "health", "late", "other"] = "other"

    @field_validator("attempt", "minutes", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


@bp.route("/cbt/exam-rooms/<int:session_id>/actions", methods=["POST"])
@require("cbt.proctor")
def room_action(session_id: int) -> tuple[Response, int]:
    _room_session(session_id)
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        body = ActionIn.model_validate(data or {})
    except ValidationError as exc:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                    for e in exc.errors(include_url=False, include_input=False)][:5]
        return jsonify(ok=False, error="invalid", message=texts.proctor_error("invalid"),
                       problems=problems), 400
    try:
        with ruang().db.transaction() as s:
            result = proctor.act(s, session_id, body.action, current_user,
                                 attempt_id=body.attempt, reason=body.reason,
                                 minutes=body.minutes or 0, text=body.text,
                                 category=body.category)
    except proctor.ProctorError as exc:
        code = 404 if exc.code == "not_found" else 400
        return jsonify(ok=False, error=exc.code,
                       message=texts.proctor_error(exc.code, exc.detail)), code
    message = texts.action_done(body.action, len(result.done), len(result.skipped))
    return jsonify(ok=True, action=result.action, done=result.done, skipped=result.skipped,
                   message=message), 200


@bp.route("/cbt/exam-rooms/<int:session_id>/status")
@require("cbt.proctor")
def room_status_json(session_id: int) -> Response:
    _room_session(session_id)
    resp = jsonify(room_status(session_id))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/cbt/exam-rooms/<int:session_id>/start", methods=["POST"])
@require("cbt.proctor")
def room_start(session_id: int) -> Response:
    _room_session(session_id)
    try:
        with ruang().db.transaction() as s:
            cbt_session = s.get(CbtSession, session_id)
            assert cbt_session is not None
            started = attempts.start_session(s, cbt_session, current_user)
    except DeliveryError as exc:
        flash(texts.error(exc.code, exc.detail), "error")
    else:
        flash(_("Started: %(n)s candidate(s) received their key.", n=len(started)), "success")
    return redirect(url_for("cbt_delivery.room", session_id=session_id))


@bp.route("/cbt/exam-rooms/<int:session_id>/open", methods=["POST"])
@require("cbt.proctor")
def room_open(session_id: int) -> Response:
    """Send every kiosk of the session's lab from its waiting screen to the exam page."""
    cbt_session = _room_session(session_id)
    kiosks.open_page(url_for("cbt_delivery.page"), lab_id=cbt_session.lab_id)
    flash(_("The lab's kiosks were sent to the exam page."), "success")
    return redirect(url_for("cbt_delivery.room", session_id=session_id))


@bp.route("/cbt/exam-rooms/<int:session_id>/reset/<int:attempt_id>", methods=["POST"])
@require("cbt.proctor")
def room_reset(session_id: int, attempt_id: int) -> Response:
    _room_session(session_id)
    reason = request.form.get("reason", "").strip()[:proctor.MAX_REASON]
    with ruang().db.transaction() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        if d is None or d.session_id != session_id:
            abort(404)
        done = attempts.reset_login(s, attempt_id, current_user, reason)
    if done:
        flash(_("Login reset: the candidate can sign in on another computer of the lab."),
              "success")
    else:
        flash(_("That attempt is already submitted."), "error")
    return redirect(url_for("cbt_delivery.room", session_id=session_id))


# -- a lab's Safe Exam Browser rule ------------------------------------------------------------


@bp.route("/cbt/labs/<int:lab_id>/exam-policy", methods=["GET", "POST"])
@require("cbt.events.manage")
def lab_policy(lab_id: int) -> Response | str:
    r = ruang()
    with r.db.session() as s:
        lab = s.get(Lab, lab_id)
        policy = s.get(LabPolicy, lab_id)
    if lab is None:
        abort(404)
    if request.method == "POST":
        keys = request.form.get("keys", "").replace(",", "\n").splitlines()
        try:
            with r.db.transaction() as s:
                integrity.set_policy(s, lab_id, request.form.get("required") == "1", keys,
                                     current_user)
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("cbt_delivery.lab_policy", lab_id=lab_id))
    return render_template("cbt_delivery/lab_policy.html", lab=lab, policy=policy, _=_)
