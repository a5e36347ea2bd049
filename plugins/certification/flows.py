"""The SOP's certification procedure as a core workflow.

BPTI staff draft a proposal and submit it to WR II, who approves it, returns it with
comments (staff revise and submit again) or rejects it. An approved programme is prepared
with its vendor and then published on the portal, where registration follows each field's
window and quota; it runs (training and exam) and is completed. Staff may cancel it at any
point before it is completed.

Labels are English msgids; the workflow panel translates them through the catalogue.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.workflow.engine import Transition, Workflow
from plugins.certification.errors import N_, t
from plugins.certification.models import ProgrammeState

S = ProgrammeState
STAFF = ("staff", "head")


def _ready_to_submit(session: Session, prog: Any) -> str | None:
    missing = []
    if not prog.fields:
        missing.append(t(N_("at least one field")))
    if prog.starts_on is None or prog.ends_on is None:
        missing.append(t(N_("the dates")))
    if not prog.costs:
        missing.append(t(N_("the costs")))
    if missing:
        return t(N_("the proposal still lacks %(what)s"), what=", ".join(missing))
    return None


def _ready_to_publish(session: Session, prog: Any) -> str | None:
    problems = []
    if prog.registration_opens_at is None or prog.registration_closes_at is None:
        problems.append(t(N_("set the registration window")))
    elif prog.registration_closes_at <= prog.registration_opens_at:
        problems.append(t(N_("the registration window must close after it opens")))
    if not any(f.quota > 0 for f in prog.fields):
        problems.append(t(N_("give at least one field a quota")))
    if problems:
        return "; ".join(problems)
    return None


def _has_registrations_closed(session: Session, prog: Any) -> str | None:
    from plugins.certification.clock import now

    if prog.registration_closes_at is not None and prog.registration_closes_at > now():
        return t(N_("registration is still open until %(when)s; close it first (edit the window)"),
                 when=prog.registration_closes_at.isoformat(timespec="minutes"))
    return None


PROGRAMME = Workflow(
    "cert_programme",
    {
        S.DRAFT: N_("Draft"),
        S.SUBMITTED: N_("Submitted to WR II"),
        S.RETURNED: N_("Returned by WR II"),
        S.APPROVED: N_("Approved by WR II"),
        S.PUBLISHED: N_("Published"),
        S.RUNNING: N_("Running"),
        S.COMPLETED: N_("Completed"),
        S.REJECTED: N_("Rejected"),
        S.CANCELLED: N_("Cancelled"),
    },
    initial=S.DRAFT,
    transitions=[
        Transition("submit", (S.DRAFT, S.RETURNED), S.SUBMITTED, roles=STAFF,
                   label=N_("Submit to WR II"), guard=_ready_to_submit),
        Transition("approve", S.SUBMITTED, S.APPROVED, roles=("approver",),
                   label=N_("Approve")),
        Transition("return", S.SUBMITTED, S.RETURNED, roles=("approver",),
                   label=N_("Return with comments"), requires_comment=True),
        Transition("reject", S.SUBMITTED, S.REJECTED, roles=("approver",),
                   label=N_("Reject"), requires_comment=True),
        Transition("publish", S.APPROVED, S.PUBLISHED, roles=STAFF,
                   label=N_("Publish on the portal"), guard=_ready_to_publish),
        Transition("deliver", S.PUBLISHED, S.RUNNING, roles=STAFF, label=N_("Start delivery"),
                   guard=_has_registrations_closed),
        Transition("complete", S.RUNNING, S.COMPLETED, roles=STAFF, label=N_("Complete")),
        Transition("cancel", (S.DRAFT, S.RETURNED, S.APPROVED, S.PUBLISHED, S.RUNNING),
                   S.CANCELLED, roles=STAFF, label=N_("Cancel the programme"),
                   requires_comment=True),
    ],
)

#: States in which the public sees a programme on the portal.
PUBLIC_STATES = (S.PUBLISHED.value, S.RUNNING.value, S.COMPLETED.value)
#: States in which freed seats go to the waiting list.
SEATING_STATES = (S.PUBLISHED.value, S.RUNNING.value)
#: States in which the proposal itself may still be edited.
EDITABLE_STATES = (S.DRAFT.value, S.RETURNED.value, S.APPROVED.value, S.PUBLISHED.value)
