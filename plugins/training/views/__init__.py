"""Pages of the training plugin: one blueprint, its routes grouped by subject in the
modules here."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

HERE = Path(__file__).resolve().parent.parent

bp = Blueprint("training", __name__, url_prefix="/training", root_path=str(HERE),
               template_folder="templates", static_folder="static")

from plugins.training.views import (  # noqa: E402,F401 - the modules register their routes
    common,
    people,
    portal,
    preparation,
    proposals,
    records,
)
