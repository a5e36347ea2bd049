"""Quality records as a core plugin: numbering tables, the ``records`` command, admin page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import MenuItem
from core.plugins import hookimpl
from core.records.models import IssuedRecord, RecordCounter, RecordFormat

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return [RecordFormat, RecordCounter, IssuedRecord]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.records.views import bp

    return [bp]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.records.cli import records

    return [records]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if not can(user, "settings.manage"):
        return []
    return [MenuItem(_("Records"), "records.admin_records", order=910, section="admin")]
