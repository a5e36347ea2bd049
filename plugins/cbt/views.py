"""Pages of the cbt plugin."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.access import require

bp = Blueprint("cbt", __name__, url_prefix="/cbt", template_folder="templates")


@bp.route("/")
@require("cbt.view")
def index() -> str:
    return render_template("cbt/index.html")
