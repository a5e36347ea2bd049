"""``/kiosk``: the page a lab PC opens, enrolment with a code, and the HTTP heartbeat.

The page and its script live in the top-level ``kiosk`` package; these are its routes. They
are open to guests (a lab PC has no account): enrolment is guarded by the short-lived code
and throttled per address, everything after it by the kiosk's token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

import kiosk as kiosk_pkg
from core.accounts.access import public
from core.instance import ruang
from core.rooms import kiosks
from core.rooms.models import Device, Kiosk, Lab, Seat
from core.rooms.service import seats_of

bp = Blueprint(
    "kiosk", __name__,
    template_folder=str(kiosk_pkg.TEMPLATES),
    static_folder=str(kiosk_pkg.STATIC),
    static_url_path="/kiosk/static",
)

COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
HEARTBEAT_EVERY_S = 10
SOCKET_IO_CLIENT = ("socket.io-client", "dist/socket.io.min.js")


class CodeIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20)


class EnrolIn(CodeIn):
    seat_id: int | None = Field(default=None, ge=1)
    seat: str | None = Field(default=None, max_length=10)
    name: str = Field(default="", max_length=100)


def _problem(message: str, status: int, error: str, **extra: Any) -> tuple[Response, int]:
    return jsonify(ok=False, error=error, message=message, **extra), status


def _invalid(exc: ValidationError) -> tuple[Response, int]:
    problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)]
    field = problems[0]["field"] if problems else ""
    message = _("Enter the code shown on the screen.") if field == "code" else \
        _("Check what you entered.")
    return _problem(message, 400, "invalid", problems=problems)


def _refused(exc: kiosks.EnrolmentRefused) -> Response | tuple[Response, int]:
    if exc.throttled:
        resp = jsonify(ok=False, error="throttled", message=exc.message,
                       retry_after_s=exc.retry_after_s)
        resp.status_code = 429
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    if exc.expired:
        return _problem(exc.message, 410, "expired")
    return _problem(exc.message, 400, "refused", field=exc.field)


def _set_token_cookie(resp: Response, token: str) -> None:
    resp.set_cookie(
        kiosks.TOKEN_COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=ruang().settings.secure_cookies, path="/",
    )


def _socket_client_url() -> str:
    """The Socket.IO client from npm, served locally (never from a CDN)."""
    package, path = SOCKET_IO_CLIENT
    try:
        from core.web.assets import asset_url

        return asset_url(package, path)
    except Exception:  # the assets route may not be registered in this build
        return f"/assets/{package}/{path}"


def _place(kiosk: Kiosk, lab: Lab, seat: Seat) -> dict[str, Any]:
    return {"id": kiosk.id, "name": kiosk.name,
            "lab": {"id": lab.id, "code": lab.code, "name": lab.name},
            "seat": {"id": seat.id, "label": seat.label}}


def _texts() -> dict[str, str]:
    """What the script says, translated here (the script has no catalogue of its own)."""
    return {
        "checking": _("Checking the code..."),
        "network": _("The server cannot be reached. Check the network cable and try again."),
        "pick_seat": _("Choose this computer's seat"),
        "taken": _("already enrolled"),
        "confirm": _("Enrol this computer as seat %(seat)s?"),
        "enrolling": _("Enrolling..."),
        "online": _("Connected"),
        "offline": _("Not connected: reconnecting..."),
        "revoked": _("This computer's enrolment was withdrawn. Enrol it again."),
        "seat_missing": _("Type a seat label, for example A1."),
    }


@bp.route("/kiosk")
@public
def page() -> Response:
    r = ruang()
    place: dict[str, Any] | None = None
    cookie = request.cookies.get(kiosks.TOKEN_COOKIE)
    with r.db.session() as session:
        found = kiosks.authenticate_token(session, cookie)
        if found is not None:
            lab, seat = kiosks.kiosk_place(session, found)
            place = _place(found, lab, seat)
    html = render_template(
        "kiosk/index.html", place=place, texts=_texts(), socket_io_url=_socket_client_url(),
        heartbeat_every_s=HEARTBEAT_EVERY_S, token_key=kiosk_pkg.TOKEN_STORAGE_KEY,
    )
    resp = make_response(html)
    resp.headers["Cache-Control"] = "no-store"
    if cookie and found is None:
        resp.delete_cookie(kiosks.TOKEN_COOKIE, path="/")
    return resp


@bp.route("/kiosk/code", methods=["POST"])
@public
def check_code() -> Response | tuple[Response, int]:
    """Step 1: the code is right; answer with the lab's seat map to pick from."""
    try:
        form = CodeIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return _invalid(exc)
    r = ruang()
    refused: kiosks.EnrolmentRefused | None = None
    lab: Lab | None = None
    with r.db.transaction() as session:
        try:
            code = kiosks.check_code(session, form.code, request.remote_addr or "")
        except kiosks.EnrolmentRefused as exc:
            refused = exc  # committed: a wrong code counts against this address
        else:
            lab = session.get(Lab, code.lab_id)
            assert lab is not None
            seats = [s for s in seats_of(session, lab.id)
                     if s.row <= lab.rows and s.col <= lab.cols]
            taken = {k.seat_id for k, _s in kiosks.kiosks_of_lab(session, lab.id)}
            hosts = {d.seat_id: d.hostname for d in session.scalars(
                select(Device).where(Device.seat_id.in_([s.id for s in seats])))}
    if refused is not None or lab is None:
        assert refused is not None
        return _refused(refused)
    return jsonify(
        ok=True,
        lab={"id": lab.id, "code": lab.code, "name": lab.name, "rows": lab.rows,
             "cols": lab.cols},
        seats=[{"id": s.id, "label": s.label, "row": s.row, "col": s.col, "active": s.active,
                "taken": s.id in taken, "hostname": hosts.get(s.id, "")} for s in seats],
    )


@bp.route("/kiosk/enrol", methods=["POST"])
@public
def enrol() -> Response | tuple[Response, int]:
    """Step 2: bind this browser to a seat; the token is in the answer, and nowhere else."""
    try:
        form = EnrolIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return _invalid(exc)
    if form.seat_id is None and not form.seat:
        return _problem(_("Type a seat label, for example A1."), 400, "refused", field="seat")
    r = ruang()
    refused: kiosks.EnrolmentRefused | None = None
    done: kiosks.Enrolment | None = None
    with r.db.transaction() as session:
        try:
            done = kiosks.enrol(
                session, form.code, seat_id=form.seat_id, seat_label=form.seat,
                ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", ""),
                name=form.name,
            )
        except kiosks.EnrolmentRefused as exc:
            refused = exc
    if refused is not None or done is None:
        assert refused is not None
        return _refused(refused)
    resp = jsonify(ok=True, token=done.token, kiosk=_place(done.kiosk, done.lab, done.seat),
                   replaced=list(done.replaced))
    resp.headers["Cache-Control"] = "no-store"
    _set_token_cookie(resp, done.token)
    return resp


@bp.route("/kiosk/heartbeat", methods=["POST"])
@public
def heartbeat() -> Response | tuple[Response, int]:
    """The fallback when Socket.IO cannot connect: the token comes in ``X-Kiosk-Token``
    (or the cookie). CSRF-exempt: a token, not a session, authenticates it."""
    r = ruang()
    token = kiosks.token_from_request()
    with r.db.session() as session:
        found = kiosks.authenticate_token(session, token)
        if found is None:
            resp = jsonify(ok=False, error="not_enrolled",
                           message=_("This computer is not enrolled as a kiosk."))
            resp.status_code = 401
            if request.cookies.get(kiosks.TOKEN_COOKIE):
                resp.delete_cookie(kiosks.TOKEN_COOKIE, path="/")
            return resp
        lab, seat = kiosks.kiosk_place(session, found)
    alive = kiosks.heartbeat(r.db, found.id, ip=request.remote_addr or "",
                             user_agent=request.headers.get("User-Agent", ""))
    if not alive:
        return _problem(_("This computer is not enrolled as a kiosk."), 401, "not_enrolled")
    resp = jsonify(ok=True, kiosk=_place(found, lab, seat), every_s=HEARTBEAT_EVERY_S)
    resp.headers["Cache-Control"] = "no-store"
    if request.cookies.get(kiosks.TOKEN_COOKIE) != token:
        _set_token_cookie(resp, token)  # the browser lost its cookie; the script still knew
    return resp


@bp.route("/kiosk/forget", methods=["POST"])
@public
def forget() -> Response:
    """Drop this browser's kiosk cookie (after a revocation); the enrolment screen follows."""
    resp = jsonify(ok=True, next=url_for("kiosk.page"))
    resp.delete_cookie(kiosks.TOKEN_COOKIE, path="/")
    return resp
