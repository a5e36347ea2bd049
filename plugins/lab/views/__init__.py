"""Pages of the lab plugin: one blueprint, its routes grouped by subject in the modules here."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

HERE = Path(__file__).resolve().parent.parent

bp = Blueprint("lab", __name__, url_prefix="/lab", root_path=str(HERE),
               template_folder="templates", static_folder="static")

from plugins.lab.views import (  # noqa: E402,F401 - the modules register their routes on bp
    calendar,
    labs,
    live,
    portal,
    repairs,
    reports,
)
