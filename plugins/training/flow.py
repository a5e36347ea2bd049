"""The life of a training on the core workflow.

BPTI staff draft the proposal and submit it; Ka. BPTI approves it (a numbered letter is
issued), returns it for revision, or rejects it. Approved trainings are prepared, held,
evaluated and documented (a numbered report is issued). Side effects that need more than
a notification (numbers, room reservations, the report) live in
:func:`plugins.training.service.act`, which every page and command goes through.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.contracts import Notification, WorkflowEvent
from core.workflow.engine import OWNER, Transition, Workflow
from plugins.training.errors import N_
from plugins.training.errors import t as _

WORKFLOW_NAME = "training"

STATES: dict[str, str] = {
    "draft": N_("Draft"),
    "submitted": N_("Waiting for approval"),
    "preparation": N_("In preparation"),
    "held": N_("Being held"),
    "evaluated": N_("Evaluated"),
    "documented": N_("Documented"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}
BADGES = {"draft": "plain", "submitted": "info", "preparation": "warn", "held": "warn",
          "evaluated": "info", "documented": "ok", "rejected": "bad", "cancelled": "bad"}

EDITABLE = ("draft",)
# Approved and not finished: the schedule, lab and participants still change.
PREPARING = ("preparation",)
ACTIVE = ("preparation", "held")
APPROVED = ("preparation", "held", "evaluated", "documented")
FINAL = ("documented", "rejected", "cancelled")

STAFF = ("staff",)
HEAD = ("head",)


def _notify(obj: Any, event: WorkflowEvent) -> list[Notification]:
    from plugins.training import notices

    return notices.on_transition(obj, event)


def _has_participants(session: Session, training: Any) -> str | None:
    from plugins.training.models import Participant, ParticipantStatus

    n = session.scalar(select(func.count()).select_from(Participant).where(
        Participant.training_id == training.id,
        Participant.status == ParticipantStatus.REGISTERED.value))
    if not n:
        return _("nobody is registered yet")
    return None


def _report_ready(session: Session, training: Any) -> str | None:
    from plugins.training.models import Participant

    attended = session.scalar(select(func.count()).select_from(Participant).where(
        Participant.training_id == training.id, Participant.checked_in_at.is_not(None)))
    if not attended:
        return _("no attendance was recorded")
    return None


def _tr(action: str, source: str | tuple[str, ...], target: str, roles: tuple[str, ...],
        label: str, requires_comment: bool = False, guard: Any = None) -> Transition:
    return Transition(action, source, target, roles=roles, label=label,
                      requires_comment=requires_comment, notify=_notify, guard=guard)


TRAINING = Workflow(
    WORKFLOW_NAME,
    STATES,
    initial="draft",
    transitions=[
        _tr("submit", "draft", "submitted", (*STAFF, OWNER), N_("Submit to Ka. BPTI")),
        _tr("revise", "submitted", "draft", HEAD, N_("Return for revision"),
            requires_comment=True),
        _tr("approve", "submitted", "preparation", HEAD, N_("Approve")),
        _tr("reject", "submitted", "rejected", HEAD, N_("Reject"), requires_comment=True),
        _tr("begin", "preparation", "held", STAFF, N_("Start the training"),
            guard=_has_participants),
        _tr("evaluate", "held", "evaluated", STAFF, N_("Close and evaluate")),
        _tr("document", "evaluated", "documented", STAFF, N_("Document and issue the report"),
            guard=_report_ready),
        _tr("cancel", ("draft", "submitted", "preparation"), "cancelled", STAFF + HEAD,
            N_("Cancel the training"), requires_comment=True),
    ],
)


def state_label(state: str) -> str:
    return _(STATES.get(state, state))
