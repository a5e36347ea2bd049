"""The workflow engine as a core plugin: the history table and the panel template."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.plugins import hookimpl
from core.workflow.models import WorkflowStep

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return [WorkflowStep]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from flask import Blueprint

    # No routes: it only puts workflow/_panel.html on every plugin's template path.
    return [Blueprint("workflow", __name__, template_folder="templates")]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")
