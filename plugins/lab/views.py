"""Pages of the lab plugin."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.access import require

bp = Blueprint("lab", __name__, url_prefix="/lab", template_folder="templates")


@bp.route("/")
@require("lab.view")
def index() -> str:
    return render_template("lab/index.html")
