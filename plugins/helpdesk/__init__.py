"""Pengaduan ICT (helpdesk): complaints with ticket numbers, routed to BPTI's divisions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import (
    ApiRoute,
    BackgroundJob,
    Complaint,
    MenuItem,
    Permission,
    RecordType,
    SettingSpec,
    Widget,
)
from core.plugins import hookimpl

HERE = Path(__file__).parent
EVERYONE = ("guest", "admin", "staff", "head", "approver", "proctor", "candidate", "requester")


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.helpdesk.models import MODELS

    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.helpdesk.admin_views import bp as admin_bp
    from plugins.helpdesk.desk_views import bp as desk_bp
    from plugins.helpdesk.portal_views import bp
    from plugins.helpdesk.report_views import bp as report_bp

    return [bp, desk_bp, admin_bp, report_bp]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("helpdesk.file", "File a complaint and follow it on the portal", EVERYONE),
        Permission("helpdesk.work", "Work on complaints of one's division", ("staff", "head")),
        Permission("helpdesk.triage", "Forward new complaints to divisions (YANSI)",
                   ("staff", "head")),
        Permission("helpdesk.reports", "See helpdesk reports and export them",
                   ("staff", "head", "approver")),
        Permission("helpdesk.manage", "Set categories, service levels and canned replies",
                   ("head",)),
    ]


@hookimpl
def ruang_settings() -> Sequence[SettingSpec]:
    from plugins.helpdesk.options import SPECS

    return SPECS


@hookimpl
def ruang_record_types() -> Sequence[RecordType]:
    return [RecordType("TIK", "Nomor tiket pengaduan ICT (helpdesk)",
                       "TIK-{year}{month:02d}-{seq:05d}", reset="monthly")]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can
    from plugins.helpdesk import access

    items = []
    if can(user, "helpdesk.file"):
        items.append(MenuItem(_("Complaints"), "helpdesk.index", icon="helpdesk", order=20))
    if can(user, "helpdesk.work"):
        items.append(MenuItem(_("Helpdesk desk"), "helpdesk_desk.queue", icon="list", order=21))
    if can(user, "helpdesk.reports"):
        items.append(MenuItem(_("Helpdesk reports"), "helpdesk_reports.index", icon="chart",
                              order=22))
    if access.may_manage(user):
        items.append(MenuItem(_("Helpdesk settings"), "helpdesk_admin.index", icon="settings",
                              order=930, section="admin"))
    return items


@hookimpl
def ruang_dashboard_widgets(user: Any, session: Any) -> Sequence[Widget]:
    from plugins.helpdesk.widgets import widgets

    return widgets(user, session)


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    from plugins.helpdesk.jobs import JOBS

    return JOBS


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from plugins.helpdesk.cli import helpdesk

    return [helpdesk]


@hookimpl
def ruang_demo_data(session: Any) -> None:
    from plugins.helpdesk.demo import ensure_demo_setup

    ensure_demo_setup(session)


@hookimpl
def ruang_file_complaint(session: Any, complaint: Complaint) -> str | None:
    from plugins.helpdesk.service import file_complaint

    return file_complaint(session, complaint)


@hookimpl
def ruang_api_routes() -> Sequence[ApiRoute]:
    from plugins.helpdesk.api import routes

    return routes()
