"""What the training pages share: loading a training or answering 404, refusals shown in
the reader's language, template helpers."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import can
from core.workflow.engine import WorkflowError
from core.workflow.panel import status_code
from plugins.training import clock, service
from plugins.training.errors import N_, TrainingError
from plugins.training.flow import BADGES, STATES
from plugins.training.models import Training
from plugins.training.pdfdoc import rupiah
from plugins.training.views import bp

AUDIENCES = {"staff": N_("Staff"), "students": N_("Students"), "mixed": N_("Staff and students")}
KINDS = {"staff": N_("Staff"), "student": N_("Student")}
STATUSES = {"invited": N_("Invited"), "registered": N_("Registered"),
            "waitlisted": N_("Waiting list"), "cancelled": N_("Withdrawn")}
STATUS_BADGES = {"invited": "info", "registered": "ok", "waitlisted": "warn",
                 "cancelled": "bad"}
NOTE_CATEGORIES = {"observation": N_("Observation"), "problem": N_("Problem"),
                   "action": N_("Action taken"), "third_party": N_("Third party")}
PARTY_STATUSES = {"to_contact": N_("To contact"), "contacted": N_("Contacted"),
                  "confirmed": N_("Confirmed"), "declined": N_("Declined")}
FILE_KINDS = {"material": N_("Material"), "photo": N_("Photo"), "document": N_("Document")}


def training_or_404(session: Session, training_id: int, *, staff: bool = False) -> Training:
    """The training, if the signed-in person may see it (staff pages: may see all)."""
    training = session.get(Training, training_id)
    if training is None:
        abort(404, description=_("There is no such training."))
    if staff and not service.sees_all(current_user):
        abort(403)
    if not service.may_see(session, training, current_user):
        abort(404, description=_("There is no such training."))
    return training


def refusal(exc: Exception) -> str:
    if isinstance(exc, TrainingError):
        return exc.translated()
    if isinstance(exc, WorkflowError):
        return _("Not possible: %(why)s", why=str(exc))
    return str(exc)


def http_status(exc: Exception) -> int:
    if isinstance(exc, TrainingError):
        return exc.http
    if isinstance(exc, WorkflowError):
        return status_code(exc)
    return 400


def refuse(exc: Exception, endpoint: str, **values: Any) -> Response:
    """Flash the refusal and go back; the page answers with the refusal's status so that
    scripts (and tests) see it too."""
    flash(refusal(exc), "error")
    response = redirect(url_for(endpoint, **values))
    return response


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.app_template_filter("training_local")
def _local(moment: Any, pattern: str = "%d-%m-%Y %H:%M") -> str:
    return clock.fmt(moment, pattern)


@bp.app_template_filter("rupiah")
def _rupiah(amount: int) -> str:
    return rupiah(int(amount or 0))


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "training_states": STATES, "training_badges": BADGES, "training_can": _can,
        "training_span": clock.span, "training_audiences": AUDIENCES,
        "training_kinds": KINDS, "training_statuses": STATUSES,
        "training_status_badges": STATUS_BADGES, "training_note_categories": NOTE_CATEGORIES,
        "training_party_statuses": PARTY_STATUSES, "training_file_kinds": FILE_KINDS,
    }


def _can(permission: str) -> bool:
    return can(current_user, permission)
