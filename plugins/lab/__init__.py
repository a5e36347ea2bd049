"""Peminjaman Lab ICT: lab booking, preparation, repairs by Biro Aset, live lab sessions.

The SOP's second procedure. A requester asks for a lab on the portal (or by letter to
Ka. BPTI, entered by staff); Ka. BPTI approves and delegates to Kabag. YANSI, who assigns the
preparation checklist to staff; the lab is checked in and out and its use is logged; faulty
PCs go to Biro Aset. The plugin answers the core's room hooks, so CBT sessions, trainings and
certification sessions that reserve a lab are kept apart from bookings by the same guard in
the database. Hooks only here; the logic is in the modules next to this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from core.contracts import (
    ApiRoute,
    BackgroundJob,
    CalendarItem,
    MenuItem,
    Permission,
    RecordType,
    RoomRequest,
    RoomReservation,
    SettingSpec,
    Widget,
    WorkflowEvent,
)
from core.plugins import hookimpl

HERE = Path(__file__).parent

STAFF = ("staff",)
EVERYONE = ("staff", "head", "approver", "proctor", "requester")


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.lab.models import MODELS

    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.lab.views import bp

    return [bp]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("lab.view", "See the labs, their calendars and availability", EVERYONE),
        Permission("lab.request", "Ask for a lab on the portal", EVERYONE),
        Permission("lab.requests_all", "See every lab request, not only one's own",
                   ("staff", "head", "approver")),
        Permission("lab.letter", "Enter a lab request that came as a letter", STAFF),
        Permission("lab.approve", "Approve or reject lab requests (Ka. BPTI)", ("head",)),
        Permission("lab.prepare", "Coordinate and prepare labs, tick checklists", STAFF),
        Permission("lab.manage", "Edit labs, seat maps, PCs, equipment and software", STAFF),
        Permission("lab.repair", "Handle PC repairs with Biro Aset", STAFF),
        Permission("lab.report_fault", "Report a faulty PC at a seat",
                   ("staff", "head", "approver", "proctor", "requester", "candidate")),
        Permission("lab.live", "Watch live lab sessions, check in and out",
                   ("staff", "head", "proctor")),
        Permission("lab.reports", "See lab utilisation reports and usage logs",
                   ("staff", "head", "approver")),
    ]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    items: list[MenuItem] = []
    if can(user, "lab.view"):
        items.append(MenuItem(_("ICT Labs"), "lab.index", icon="lab", order=20))
        items.append(MenuItem(_("Lab calendar"), "lab.calendar", icon="calendar", order=21))
    if can(user, "lab.repair"):
        items.append(MenuItem(_("PC repairs"), "lab.repairs", icon="settings", order=22))
    if can(user, "lab.reports"):
        items.append(MenuItem(_("Lab utilisation"), "lab.utilisation", icon="chart", order=23))
    return items


@hookimpl
def ruang_settings() -> Sequence[SettingSpec]:
    from plugins.lab.options import SETTINGS

    return SETTINGS


@hookimpl
def ruang_record_types() -> Sequence[RecordType]:
    return [
        RecordType("LAB", "Lab request (peminjaman lab)", "LAB-{seq:04d}/BPTI/{year}"),
        RecordType("LAB-REP", "PC repair request to Biro Aset",
                   "REP-{seq:03d}/BPTI/{roman_month}/{year}"),
    ]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from plugins.lab.cli import lab

    return [lab]


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    from plugins.lab import jobs

    return [
        BackgroundJob("lab.reconcile_faults", 60, jobs.reconcile_faults),
        BackgroundJob("lab.no_shows", 120, jobs.no_shows),
        BackgroundJob("lab.reminders", 600, jobs.reminders),
    ]


@hookimpl
def ruang_dashboard_widgets(user: Any, session: Any) -> Sequence[Widget]:
    from plugins.lab.widgets import widgets

    return widgets(user, session)


@hookimpl(trylast=True)
def ruang_demo_data(session: Any) -> None:
    from plugins.lab.demo import ensure_demo

    ensure_demo(session)


@hookimpl
def ruang_reserve_room(session: Any, request: RoomRequest) -> RoomReservation | None:
    from plugins.lab.reservations import reserve

    return reserve(session, request)


@hookimpl
def ruang_release_room(session: Any, reference: str) -> None:
    from plugins.lab.reservations import release

    release(session, reference)


@hookimpl
def ruang_room_busy(session: Any, lab_id: int, start: datetime,
                    end: datetime) -> Sequence[CalendarItem]:
    from plugins.lab.reservations import busy

    return busy(session, lab_id, start, end)


@hookimpl
def ruang_calendar_items(session: Any, start: datetime, end: datetime,
                         user: Any) -> Sequence[CalendarItem]:
    from plugins.lab.reservations import calendar_items

    return calendar_items(session, start, end, user)


@hookimpl
def ruang_workflow_transition(session: Any, event: WorkflowEvent) -> None:
    from plugins.lab.reservations import on_transition

    on_transition(session, event)


@hookimpl
def ruang_api_routes() -> Sequence[ApiRoute]:
    from plugins.lab.api import routes

    return routes()
