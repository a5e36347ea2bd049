"""Pages of the helpdesk plugin."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.access import require

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk", template_folder="templates")


@bp.route("/")
@require("helpdesk.view")
def index() -> str:
    return render_template("helpdesk/index.html")
