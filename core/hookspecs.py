"""The plugin API: every hook a Ruang plugin may implement.

This module holds specifications only. A plugin is a module (or object) whose functions are
decorated with ``core.plugins.hookimpl`` and named like the specs below; it is found through
the ``ruang.plugins`` entry-point group. ``docs/plugins.md`` shows how to write one, and
``tests/core/test_hookspecs.py`` fails when a hook here has no documentation or no test.

Hooks of a disabled plugin are not called. Hooks that collect (most of them) return a list
per plugin, which the core flattens; ``firstresult`` hooks stop at the first plugin that
answers with something other than ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import pluggy

from core.contracts import (
    ApiRoute,
    Assessment,
    AssessmentScore,
    BackgroundJob,
    CalendarItem,
    Complaint,
    MenuItem,
    NotificationChannel,
    Permission,
    RecordType,
    RoomRequest,
    RoomReservation,
    SettingSpec,
    SocketHandler,
    ThirdParty,
    Widget,
    WorkflowEvent,
)

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from sqlalchemy.orm import Session

    from core.accounts.models import User

hookspec = pluggy.HookspecMarker("ruang")


# -- Registration: what a plugin brings, collected once when a process starts -------------


@hookspec
def ruang_migrations() -> str | None:
    """Return the folder of this plugin's Alembic migration versions, or ``None``.

    Fires when the migration environment is built (``ruang db upgrade``, server start in
    tests). Each plugin has its own version location and its own branch, whose first
    revision has ``branch_labels=("<plugin name>",)``. Called for every installed plugin,
    enabled or not: a disabled plugin keeps its tables.
    """


@hookspec
def ruang_models() -> Sequence[type]:
    """Return this plugin's SQLAlchemy model classes (subclasses of ``core.db.Base``).

    Fires once at start-up so that the tables are known to the metadata used by migrations
    and by ``ruang db check``. Called for every installed plugin.
    """


@hookspec
def ruang_blueprints() -> Sequence[Blueprint]:
    """Return the Flask blueprints of this plugin.

    Fires once when the app is created; blueprints are registered for every installed
    plugin, and while the plugin is disabled every one of its routes answers 404.
    """


@hookspec
def ruang_socket_handlers() -> Sequence[SocketHandler]:
    """Return the Socket.IO event handlers of this plugin.

    Fires once when the app is created. The core wraps each handler: the event is ignored
    (acknowledged with ``{"ok": false, "error": "not_found"}``) while the plugin is disabled,
    refused with ``forbidden`` without the handler's permission, and refused with
    ``invalid`` when the payload does not match the handler's schema.
    """


@hookspec
def ruang_cli_commands() -> Sequence[click.Command]:
    """Return click commands (or groups) to add to the ``ruang`` command.

    Fires when the command line is built. A command of a disabled plugin exits with an
    error that says the plugin is disabled.
    """


@hookspec
def ruang_translations() -> str | None:
    """Return the folder of this plugin's Babel catalogues (``<lang>/LC_MESSAGES/*.po``).

    Fires once when the app is created; the catalogues are merged with the core's.
    """


@hookspec
def ruang_permissions() -> Sequence[Permission]:
    """Return the permissions this plugin checks, with the roles that hold them by default.

    Fires once when the app is created. ``core.accounts.access.can(user, name)`` answers from
    these declarations; an undeclared permission is an error, never a silent refusal.
    """


@hookspec
def ruang_settings() -> Sequence[SettingSpec]:
    """Return the settings staff may change for this plugin on the admin page.

    Fires when settings are listed or changed. Values are validated against the spec's
    type before they are stored; a bad value is refused with a message and changes nothing.
    """


@hookspec
def ruang_record_types() -> Sequence[RecordType]:
    """Return the kinds of numbered quality records this plugin issues.

    Fires when the records service first needs a format. Staff may override each format;
    the default is the one returned here.
    """


@hookspec
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    """Return periodic jobs (deadline auto-submit, SLA timers, token rotation...).

    Fires when the scheduler starts. Each run is claimed with a lease in the database, so
    a job runs once per interval across all server processes. A job of a disabled plugin
    is skipped.
    """


@hookspec
def ruang_app_created(app: Flask) -> None:
    """Called once after the app is built and every blueprint is registered.

    For wiring that needs the app itself (template filters, error handlers). Keep it
    cheap: it runs in every process and in every test app.
    """


@hookspec
def ruang_startup_check(app: Flask) -> None:
    """Called by ``ruang serve`` on each node after the app is built, before it listens.

    Raise an exception whose message says what is wrong and how to mend it to refuse to
    start (for example a node without the master key the stored content needs): the
    command exits with "refusing to start: <message>". Return ``None`` when all is well.
    Not called for one-off commands or for test apps; keep it to what must stop a server.
    """


# -- Pages: what people see ----------------------------------------------------------------


@hookspec
def ruang_menu_items(user: User | None) -> Sequence[MenuItem]:
    """Return the navigation entries this plugin offers to ``user`` (``None``: a guest).

    Fires on every page render. Return only what the user may open; an empty list hides
    the plugin from the navigation.
    """


@hookspec
def ruang_dashboard_widgets(user: User, session: Session) -> Sequence[Widget]:
    """Return dashboard cards for ``user``: counts, queues, today's sessions.

    Fires when the dashboard renders. ``session`` is a read-only database session.
    """


@hookspec
def ruang_demo_data(session: Session) -> None:
    """Add this plugin's demo data inside ``session`` (a write transaction).

    Fires on ``ruang demo`` after the core's own demo data (users, labs) exists; it must
    be idempotent, because operators run it again.
    """


# -- Services plugins offer each other -----------------------------------------------------


@hookspec(firstresult=True)
def ruang_reserve_room(session: Session, request: RoomRequest) -> RoomReservation | None:
    """Ask for a lab (or some of its seats) for a time span; the lab plugin answers.

    Fires when a plugin calls ``core.rooms.reserve``. The first non-``None`` answer wins.
    With no plugin answering, the core grants the request after checking its own
    registry (the lab exists and has enough working seats).
    """


@hookspec
def ruang_release_room(session: Session, reference: str) -> None:
    """Release a reservation made through :func:`ruang_reserve_room`.

    Fires when a plugin calls ``core.rooms.release``; a plugin that does not know the
    reference ignores it.
    """


@hookspec
def ruang_room_busy(
    session: Session, lab_id: int, start: datetime, end: datetime
) -> Sequence[CalendarItem]:
    """Return what keeps lab ``lab_id`` busy between ``start`` and ``end``.

    Fires when availability is shown (lab booking form, CBT session scheduling).
    """


@hookspec
def ruang_calendar_items(
    session: Session, start: datetime, end: datetime, user: User | None
) -> Sequence[CalendarItem]:
    """Return the calendar items of this plugin between ``start`` and ``end``.

    Fires when a calendar page or iCal feed is built; ``user`` limits what is visible.
    """


@hookspec
def ruang_third_parties(session: Session, query: str) -> Sequence[ThirdParty]:
    """Return the outside vendors or trainers this plugin knows that match ``query``.

    Fires when a plugin looks up third parties through ``core.directory``; lets training
    use the certification plugin's vendor records without importing it.
    """


@hookspec
def ruang_assessments(session: Session, query: str) -> Sequence[Assessment]:
    """Return the exams this plugin can run as a knowledge check for another plugin.

    Fires when staff choose the pre-test and post-test of a training (or any short check
    of what people learned), with ``query`` the text they typed (empty: everything that is
    offered). The CBT plugin answers with its published exams; ``ref`` is what the caller
    stores and later passes to :func:`ruang_assessment_scores`.
    """


@hookspec(firstresult=True)
def ruang_assessment_scores(session: Session, ref: str) -> Sequence[AssessmentScore] | None:
    """Return every finished result of the assessment ``ref``, as percentages.

    Fires when a training (or another caller) collects the scores of an exam it chose
    through :func:`ruang_assessments`; the plugin that owns ``ref`` answers, every other
    plugin returns ``None``. While the owner is disabled nothing answers and the caller
    keeps the scores it collected before.
    """


@hookspec(firstresult=True)
def ruang_file_complaint(session: Session, complaint: Complaint) -> str | None:
    """File ``complaint`` with the helpdesk inside ``session``; return its ticket number.

    Fires when a plugin reports a problem for someone (a PC that broke during an exam, a
    lab fault found while preparing a room); the helpdesk plugin answers with the new
    ticket number, and ``None`` comes back while no helpdesk is enabled. The ticket
    commits or vanishes with the caller's transaction.
    """


@hookspec
def ruang_workflow_transition(session: Session, event: WorkflowEvent) -> None:
    """Called after a workflow transition, inside the same transaction.

    Lets other plugins react (for example the lab plugin frees a room when a CBT event is
    cancelled). Raising aborts the transition.
    """


@hookspec
def ruang_notification_channels() -> Sequence[NotificationChannel]:
    """Return channels that deliver notifications (e-mail, WhatsApp gateway webhook...).

    Fires when the outbox delivers. A notification goes through every channel whose
    ``can_deliver`` is true; a channel that raises is retried with backoff.
    """


@hookspec
def ruang_plugin_toggled(session: Session, name: str, enabled: bool) -> None:
    """Called when an admin enables or disables plugin ``name``, inside that transaction.

    Fires in the process that made the change, for every enabled plugin (the plugin
    being disabled included).
    """


# -- Integration API -----------------------------------------------------------------------


@hookspec
def ruang_api_routes() -> Sequence[ApiRoute]:
    """Return JSON endpoints under ``/api/v1`` for the academic information system.

    Fires once when the app is created; each route is listed in ``/api/v1/openapi.json``,
    checked against the token's scope and answers 404 while its plugin is disabled.
    """


def _all_hooks() -> list[str]:
    return sorted(name for name in globals() if name.startswith("ruang_"))


HOOK_NAMES: list[str] = _all_hooks()
__all__ = ["HOOK_NAMES", "hookspec", *HOOK_NAMES]
