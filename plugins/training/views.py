"""Pages of the training plugin."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.access import require

bp = Blueprint("training", __name__, url_prefix="/training", template_folder="templates")


@bp.route("/")
@require("training.view")
def index() -> str:
    return render_template("training/index.html")
