"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from pydantic import BaseModel, Field, ValidationError
from werkzeug.wrappers import Response

from core.accounts.access import public
from core.accounts.models import User
from core.accounts.service import LoginRefused, authenticate
from core.audit.service import record as audit
from core.instance import ruang

bp = Blueprint("accounts", __name__, template_folder="templates")


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in is a phishing tool."""
    if not target:
        return url_for("web.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("accounts/login.html", next=request.args.get("next", ""))
    try:
        form = LoginForm.model_validate(request.form.to_dict())
    except ValidationError:
        flash(_("Enter your user name and password."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", "")), 400
    r = ruang()
    refused: LoginRefused | None = None
    user: User | None = None
    with r.db.transaction() as session:
        try:
            user = authenticate(
                session, form.username.strip(), form.password, request.remote_addr or "",
                max_failures=r.settings.login_max_failures, window_s=r.settings.login_window_s,
            )
        except LoginRefused as exc:
            refused = exc
    if refused is not None or user is None:
        assert refused is not None
        if refused.throttled:
            flash(_("Too many failed sign-ins. Try again in %(n)s minute(s).",
                    n=max(refused.retry_after_s // 60, 1)), "error")
            resp = make_response(render_template("accounts/login.html", next=""), 429)
            resp.headers["Retry-After"] = str(refused.retry_after_s)
            return resp
        flash(_("Wrong user name or password."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", "")), 401
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    if current_user.is_authenticated:
        with ruang().db.transaction() as session:
            audit(session, "logout", actor=current_user, object_type="user",
                  object_id=current_user.id)
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str) -> Response:
    if code not in ("id", "en"):
        return make_response(_("Unknown language."), 400)
    if current_user.is_authenticated:
        with ruang().db.transaction() as session:
            user = session.get(User, current_user.id)
            if user is not None:
                user.locale = code
    back = request.form.get("next") or urlsplit(request.referrer or "").path or None
    resp = redirect(_safe_next(back))
    resp.set_cookie("ruang_lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return resp
