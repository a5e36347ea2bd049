"""The SOP's lab procedure and the repair procedure, as core workflows.

Lab request: submitted (portal, or a letter staff enter) -> approved by Ka. BPTI -> delegated
to Kabag. YANSI -> preparing (a checklist assigned to staff) -> ready -> in use (checked in)
-> ready again between the weeks of a series, or done after the last one.

Repair: reported -> sent to Biro Aset -> in repair -> done (or cancelled, a false alarm).

Labels are English msgids; the workflow panel translates them through the catalogue.
Notifications and the holds on the lab are made by the services that call ``apply``
(``plugins.lab.requests`` / ``plugins.lab.repairs``), which know who to tell.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.workflow.engine import Transition, Workflow
from plugins.lab.errors import N_, tr
from plugins.lab.models import OccurrenceStatus, RepairState, RequestState

S = RequestState


def _(msgid: str, **params: Any) -> str:
    return tr(msgid, **params)


def _checklist_done(session: Session, obj: Any) -> str | None:
    open_items = [i.label for i in obj.checklist if not i.done]
    if open_items:
        return _("the preparation checklist still has open items: %(items)s",
                  items=", ".join(open_items))
    return None


def _upcoming(obj: Any) -> list[Any]:
    return [o for o in obj.occurrences if o.status == OccurrenceStatus.BOOKED]


def _has_upcoming(session: Session, obj: Any) -> str | None:
    if not _upcoming(obj):
        return _("no week of this booking is left; finish it instead")
    return None


def _none_upcoming(session: Session, obj: Any) -> str | None:
    left = _upcoming(obj)
    if left:
        return _("%(n)d booked session(s) are still to come; check out instead", n=len(left))
    return None


def _has_assignee(session: Session, obj: Any) -> str | None:
    if obj.assignee_id is None:
        return _("choose the staff member who prepares the lab first")
    return None


LAB_REQUEST = Workflow(
    "lab_request",
    {
        S.SUBMITTED: N_("Submitted"),
        S.APPROVED: N_("Approved by Ka. BPTI"),
        S.DELEGATED: N_("Delegated to Kabag. YANSI"),
        S.PREPARING: N_("Being prepared"),
        S.READY: N_("Lab ready"),
        S.IN_USE: N_("In use"),
        S.DONE: N_("Done"),
        S.REJECTED: N_("Rejected"),
        S.CANCELLED: N_("Cancelled"),
    },
    initial=S.SUBMITTED,
    transitions=[
        Transition("approve", S.SUBMITTED, S.APPROVED, roles=("head",), label=N_("Approve")),
        Transition("reject", S.SUBMITTED, S.REJECTED, roles=("head",), label=N_("Reject"),
                   requires_comment=True),
        Transition("delegate", S.APPROVED, S.DELEGATED, roles=("head",),
                   label=N_("Delegate to Kabag. YANSI")),
        Transition("assign", S.DELEGATED, S.PREPARING, roles=("division_head",),
                   divisions=("YANSI",), label=N_("Assign preparation"), guard=_has_assignee),
        Transition("mark_ready", S.PREPARING, S.READY, roles=("staff",),
                   label=N_("Lab is ready"), guard=_checklist_done),
        Transition("check_in", S.READY, S.IN_USE, roles=("staff", "proctor"),
                   label=N_("Check in")),
        Transition("check_out", S.IN_USE, S.READY, roles=("staff", "proctor"),
                   label=N_("Check out"), guard=_has_upcoming),
        Transition("finish", (S.IN_USE, S.READY), S.DONE, roles=("staff", "proctor"),
                   label=N_("Check out and finish"), guard=_none_upcoming),
        Transition("cancel", (S.SUBMITTED, S.APPROVED, S.DELEGATED, S.PREPARING, S.READY),
                   S.CANCELLED, roles=("owner", "staff", "head"), label=N_("Cancel"),
                   requires_comment=True),
    ],
)

#: Actions that have their own form on the request page (they need more than a comment).
FORM_ACTIONS = frozenset({"approve", "assign", "check_in", "check_out", "finish"})

R = RepairState

REPAIR = Workflow(
    "lab_repair",
    {
        R.REPORTED: N_("Reported"),
        R.SENT: N_("Sent to Biro Aset"),
        R.IN_REPAIR: N_("In repair at Biro Aset"),
        R.DONE: N_("Repaired"),
        R.CANCELLED: N_("Cancelled"),
    },
    initial=R.REPORTED,
    transitions=[
        Transition("send", R.REPORTED, R.SENT, roles=("staff",),
                   label=N_("Send to Biro Aset")),
        Transition("pick_up", R.SENT, R.IN_REPAIR, roles=("staff",),
                   label=N_("Biro Aset took the PC")),
        Transition("complete", (R.SENT, R.IN_REPAIR), R.DONE, roles=("staff",),
                   label=N_("Repaired, back in service")),
        Transition("cancel", (R.REPORTED, R.SENT), R.CANCELLED, roles=("staff",),
                   label=N_("Cancel (not faulty)"), requires_comment=True),
    ],
)

REPAIR_FORM_ACTIONS = frozenset({"complete", "pick_up"})
