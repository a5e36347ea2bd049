"""Sertifikasi IT: the SOP's fifth procedure.

BPTI proposes a certification to WR II (core workflow, proposal letter numbered by the
records service); once approved, a vendor helps prepare and deliver it; BPTI schedules
sessions in labs (reserved through the core), sets a quota for each field and publishes
it on the public portal, where members of the university and outsiders (with a verified
e-mail address) register, wait in line, accept freed seats or cancel. Attendance, results
(typed, or from a CBT exam) and certificates with a QR code that anyone can check follow.
Hooks only here; the logic is in the modules next to this one.
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
    ThirdParty,
    Widget,
)
from core.plugins import hookimpl

HERE = Path(__file__).parent

STAFF = ("staff", "head")
READERS = ("staff", "head", "approver")


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.certification.models import MODELS

    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.certification.views import bp

    return [bp]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("certification.view", "See certification programmes, proposals and "
                   "registrations", READERS),
        Permission("certification.manage", "Draft proposals, fields, quotas and sessions",
                   STAFF),
        Permission("certification.registrations", "Register people, cancel registrations and "
                   "record payments", STAFF),
        Permission("certification.deliver", "Mark attendance and enter results",
                   ("staff", "head", "proctor")),
        Permission("certification.certificates", "Issue and revoke certificates", STAFF),
        Permission("certification.vendors", "Keep vendors and the documents exchanged with "
                   "them", STAFF),
    ]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if can(user, "certification.view"):
        return [MenuItem(_("Certification"), "certification.index", icon="certificate",
                         order=40)]
    if user is not None and getattr(user, "is_authenticated", False):
        return [MenuItem(_("Certification"), "certification.portal", icon="certificate",
                         order=40)]
    return []


@hookimpl
def ruang_record_types() -> Sequence[RecordType]:
    return [
        RecordType("CERT-SP", "Certification proposal letter to WR II (surat pengajuan)",
                   "{seq:03d}/SP-SERT/BPTI/{roman_month}/{year}"),
        RecordType("CERT", "Certificate of an IT certification", "SERT-{seq:05d}/BPTI/{year}"),
    ]


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    from plugins.certification.jobs import expire_offers

    return [BackgroundJob("certification.expire_offers", 60, expire_offers)]


@hookimpl
def ruang_dashboard_widgets(user: Any, session: Any) -> Sequence[Widget]:
    from plugins.certification.widgets import widgets

    return widgets(user, session)


@hookimpl
def ruang_calendar_items(session: Any, start: datetime, end: datetime,
                         user: Any) -> Sequence[CalendarItem]:
    from plugins.certification.schedule import calendar_items

    return calendar_items(session, start, end, user)


@hookimpl
def ruang_room_busy(session: Any, lab_id: int, start: datetime,
                    end: datetime) -> Sequence[CalendarItem]:
    from plugins.certification.schedule import busy

    return busy(session, lab_id, start, end)


@hookimpl
def ruang_third_parties(session: Any, query: str) -> Sequence[ThirdParty]:
    from plugins.certification.vendors import third_parties

    return third_parties(session, query)


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from plugins.certification.cli import certification

    return [certification]


@hookimpl(trylast=True)
def ruang_demo_data(session: Any) -> None:
    from plugins.certification.demo import ensure_demo

    ensure_demo(session)
