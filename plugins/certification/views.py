"""Pages of the certification plugin."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.access import require

bp = Blueprint("certification", __name__, url_prefix="/certification", template_folder="templates")


@bp.route("/")
@require("certification.view")
def index() -> str:
    return render_template("certification/index.html")
