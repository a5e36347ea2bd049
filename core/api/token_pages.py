"""``/account/tokens``: staff create, list and revoke their personal API tokens."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Response

from core.accounts.access import can, require
from core.api import tokens
from core.api.registry import ApiRegistry
from core.db import utcnow
from core.instance import ruang

bp = Blueprint("api_tokens", __name__, template_folder="templates")

LIFETIMES: tuple[tuple[str, int | None], ...] = (
    ("7", 7), ("30", 30), ("90", 90), ("365", 365), ("never", None),
)


class TokenForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)
    days: Literal["7", "30", "90", "365", "never"] = "90"


def _sees_all() -> bool:
    return can(current_user, "users.manage")


def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
    reg: ApiRegistry = current_app.extensions["ruang.api"]
    with ruang().db.session() as session:
        rows = tokens.list_tokens(session, None if _sees_all() else current_user.id)
    html = render_template("api/tokens.html", rows=rows, scopes=reg.by_scope(),
                           lifetimes=LIFETIMES, now=utcnow(), sees_all=_sees_all(),
                           form=extra.pop("form", {"days": "90", "scopes": []}), **extra)
    return html, status


@bp.route("/account/tokens")
@require("api.tokens")
def tokens_page() -> tuple[str, int]:
    return _page()


@bp.route("/account/tokens", methods=["POST"])
@require("api.tokens")
def create() -> Response | tuple[str, int]:
    raw = {"name": request.form.get("name", ""), "scopes": request.form.getlist("scope"),
           "days": request.form.get("days", "90")}
    reg: ApiRegistry = current_app.extensions["ruang.api"]
    messages = {
        "name": _("Give the token a name of at most 100 characters that says what uses it."),
        "scopes": _("Choose at least one scope."),
        "days": _("Choose how long the token stays valid."),
    }
    try:
        form = TokenForm.model_validate(raw)
    except ValidationError as exc:
        fields = dict.fromkeys(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        return _page(400, errors=[messages.get(f, f) for f in fields], form=raw)
    unknown = sorted(set(form.scopes) - reg.known_scopes())
    if unknown:
        return _page(400, errors=[_("Unknown scope: %(scopes)s", scopes=", ".join(unknown))],
                     form=raw)
    days = dict(LIFETIMES)[form.days]
    try:
        with ruang().db.transaction() as session:
            created = tokens.create_token(session, current_user, name=form.name,
                                          scopes=form.scopes, days=days,
                                          known_scopes=reg.known_scopes(), actor=current_user)
    except tokens.TokenError as exc:
        return _page(400, errors=[str(exc)], form=raw)
    html, status = _page(created=created)
    resp = current_app.make_response((html, status))
    # The secret is on this page only: keep it out of caches and the back button.
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@require("api.tokens")
def revoke(token_id: int) -> Response:
    owner = None if _sees_all() else current_user.id
    try:
        with ruang().db.transaction() as session:
            token, changed = tokens.revoke_token(session, token_id, actor=current_user,
                                                 owner_id=owner)
    except tokens.TokenError:
        abort(404)
    if changed:
        flash(_("The token %(name)s (%(prefix)s…) is revoked; it no longer works.",
                name=token.name, prefix=token.prefix), "success")
    return redirect(url_for("api_tokens.tokens_page"))
