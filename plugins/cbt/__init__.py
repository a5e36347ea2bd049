"""Layanan CBT: ujian berbasis komputer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import (
    BackgroundJob,
    MenuItem,
    Permission,
    RecordType,
    SocketHandler,
    WorkflowEvent,
)
from core.plugins import hookimpl
from plugins.cbt import delivery

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.cbt.models import MODELS

    return [*MODELS, *delivery.tables()]


@hookimpl
def ruang_startup_check(app: Any) -> None:
    # A node without the master key the stored content needs would otherwise create a
    # new, wrong one on the first write.
    from plugins.cbt.crypto import check_master_key

    r = app.extensions["ruang"]
    check_master_key(r.settings, r.db)


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.cbt.views import bp

    return [bp, *delivery.blueprints()]


@hookimpl
def ruang_socket_handlers() -> Sequence[SocketHandler]:
    return delivery.socket_handlers()


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    return delivery.background_jobs()


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from plugins.cbt.cli import cbt, keys

    return [cbt, keys]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("cbt.view", "Open the CBT pages",
                   ("staff", "head", "approver", "proctor", "requester")),
        Permission("cbt.author", "Manage question banks, items and exams", ("staff", "head")),
        Permission("cbt.candidates", "Manage exam rosters and print login cards",
                   ("staff", "head")),
        Permission("cbt.events.propose", "Propose a CBT event and follow it",
                   ("requester", "staff", "head")),
        Permission("cbt.events.manage", "Review and prepare every CBT event",
                   ("staff", "head")),
        *delivery.permissions(),
    ]


@hookimpl
def ruang_record_types() -> Sequence[RecordType]:
    from plugins.cbt.events import record_types

    return record_types()


@hookimpl
def ruang_workflow_transition(session: Any, event: WorkflowEvent) -> None:
    from plugins.cbt.events import on_transition

    on_transition(session, event)


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if not can(user, "cbt.view"):
        return []
    items = [MenuItem("CBT", "cbt.index", order=20)]
    if can(user, "cbt.events.propose") or can(user, "cbt.events.manage"):
        items.append(MenuItem(_("CBT events"), "cbt.event_list", order=23))
    if can(user, "cbt.author"):
        items.append(MenuItem(_("Question banks"), "cbt.bank_list", order=21))
        items.append(MenuItem(_("Exams"), "cbt.exam_list", order=22))
    items.extend(delivery.menu_items(user))
    return items


@hookimpl(specname="ruang_blueprints")
def ruang_blueprints_reports() -> Sequence[Any]:
    from plugins.cbt.reports.views import bp as reports_bp

    return [reports_bp]


@hookimpl(specname="ruang_blueprints")
def ruang_blueprints_marking() -> Sequence[Any]:
    from plugins.cbt.marking.views import bp as marking_bp

    return [marking_bp]


@hookimpl
def ruang_assessments(session: Any, query: str) -> Sequence[Any]:
    from plugins.cbt.assessments import offered

    return offered(session, query)


@hookimpl
def ruang_assessment_scores(session: Any, ref: str) -> Sequence[Any] | None:
    from plugins.cbt.assessments import scores

    return scores(session, ref)
