"""Diklat IT (pelatihan): themed IT trainings from proposal to documented outcome.

The SOP's fourth procedure. BPTI staff draft a proposal (theme, audience, goals, schedule,
trainers, budget, third party); Ka. BPTI approves it and a numbered letter is issued. Staff
prepare it (checklist, lab reserved through the core's room hooks, materials, invitations,
registration within a capacity, reminders), contact the third party, supervise the event
(QR or staff check-in, notes, a pre- and post-test) and evaluate it (ratings, comments,
learning gain), then document it in a numbered PDF report. Participants who attended get
a certificate with a QR code to a public verification page. Hooks only here; the logic is
in the modules next to this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from core.contracts import (
    BackgroundJob,
    CalendarItem,
    MenuItem,
    Permission,
    RecordType,
    SettingSpec,
    ThirdParty,
    Widget,
)
from core.plugins import hookimpl

HERE = Path(__file__).parent

STAFF = ("staff",)
SIGNED_IN = ("staff", "head", "approver", "proctor", "requester", "candidate")


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.training.models import MODELS

    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.training.views import bp

    return [bp]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("training.join", "See open trainings and register for them", SIGNED_IN),
        Permission("training.view_all", "See every training and its proposal",
                   ("staff", "head", "approver")),
        Permission("training.manage", "Propose, prepare, supervise and document trainings",
                   STAFF),
        Permission("training.approve", "Approve or reject training proposals (Ka. BPTI)",
                   ("head",)),
        Permission("training.checkin", "Check participants in at the door",
                   ("staff", "proctor")),
        Permission("training.reports", "See the results of trainings and the yearly summary",
                   ("staff", "head", "approver")),
    ]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    items: list[MenuItem] = []
    if can(user, "training.join"):
        items.append(MenuItem(_("Trainings"), "training.index", icon="training", order=30))
    if can(user, "training.reports"):
        items.append(MenuItem(_("Training summary"), "training.summary", icon="chart",
                              order=31))
    if can(user, "training.manage"):
        items.append(MenuItem(_("Trainers"), "training.trainers", icon="users", order=32))
    return items


@hookimpl
def ruang_settings() -> Sequence[SettingSpec]:
    from plugins.training.options import SETTINGS

    return SETTINGS


@hookimpl
def ruang_record_types() -> Sequence[RecordType]:
    return [
        RecordType("DIKLAT", "Training approval letter (surat persetujuan Diklat)",
                   "{seq:03d}/DIKLAT/BPTI/{roman_month}/{year}"),
        RecordType("DIKLAT-LAP", "Training report (laporan pelaksanaan Diklat)",
                   "LAP-DIKLAT-{seq:03d}/BPTI/{year}"),
        RecordType("DIKLAT-SRT", "Certificate of attendance of a training",
                   "SRT-DIKLAT/{year}/{seq:04d}"),
    ]


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    from plugins.training.jobs import run_reminders

    return [BackgroundJob("training.reminders", 600, run_reminders)]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from plugins.training.cli import training

    return [training]


@hookimpl
def ruang_dashboard_widgets(user: Any, session: Any) -> Sequence[Widget]:
    from plugins.training.widgets import widgets

    return widgets(user, session)


@hookimpl
def ruang_demo_data(session: Any) -> None:
    from plugins.training.demo import ensure_demo

    ensure_demo(session)


@hookimpl
def ruang_calendar_items(session: Any, start: datetime, end: datetime,
                         user: Any) -> Sequence[CalendarItem]:
    from plugins.training.agenda import calendar_items

    return calendar_items(session, start, end, user)


@hookimpl
def ruang_room_busy(session: Any, lab_id: int, start: datetime,
                    end: datetime) -> Sequence[CalendarItem]:
    from plugins.training.agenda import room_busy

    return room_busy(session, lab_id, start, end)


@hookimpl
def ruang_third_parties(session: Any, query: str) -> Sequence[ThirdParty]:
    from plugins.training.parties import own_parties

    return own_parties(session, query)
