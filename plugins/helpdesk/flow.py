"""The life of a ticket on the core workflow, and the actors that are not staff accounts.

States follow the issue: new, forwarded (to a division), in progress, waiting on the user,
resolved, closed, reopened. The workflow checks roles; which ticket a staff member may
touch (their division, their assignments) is checked by :mod:`plugins.helpdesk.access`
before a transition is tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.contracts import Notification, WorkflowEvent
from core.workflow.engine import OWNER, Transition, Workflow

WORKFLOW_NAME = "helpdesk_ticket"

STATES: dict[str, str] = {
    "new": "New",
    "forwarded": "Forwarded",
    "in_progress": "In progress",
    "waiting": "Waiting on user",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
}
OPEN_STATES: tuple[str, ...] = ("new", "forwarded", "in_progress", "waiting", "reopened")
DONE_STATES: tuple[str, ...] = ("resolved", "closed")

STAFF = ("staff", "head")
# The requester: their account (owner), or a guest who proved who they are (see
# RequesterActor, whose role is "requester").
REQUESTER = (OWNER, "requester")

# Comments of these actions are written to the user and shown on the status page; others
# (forwarding notes) stay with staff.
PUBLIC_COMMENT_ACTIONS = frozenset({"wait", "resolve", "reopen", "cancel", "close", "merge"})
# Actions that need more than a comment, offered by their own forms instead of the panel.
FORM_ACTIONS = frozenset({"forward", "merge"})


def _notify(obj: Any, event: WorkflowEvent) -> list[Notification]:
    from plugins.helpdesk import notices

    return notices.on_transition(obj, event)


def _t(action: str, source: str | tuple[str, ...], target: str, roles: tuple[str, ...],
       label: str, requires_comment: bool = False) -> Transition:
    return Transition(action, source, target, roles=roles, label=label,
                      requires_comment=requires_comment, notify=_notify)


TICKET = Workflow(
    WORKFLOW_NAME,
    STATES,
    initial="new",
    transitions=[
        _t("forward", OPEN_STATES, "forwarded", STAFF, "Forward to a division"),
        _t("begin", ("forwarded", "reopened"), "in_progress", STAFF, "Start work"),
        _t("wait", "in_progress", "waiting", STAFF, "Ask the user", requires_comment=True),
        _t("resume", "waiting", "in_progress", STAFF + REQUESTER, "Continue"),
        _t("resolve", ("new", "forwarded", "in_progress", "waiting", "reopened"), "resolved",
           STAFF, "Resolve", requires_comment=True),
        _t("reopen", "resolved", "reopened", STAFF + REQUESTER, "Reopen", requires_comment=True),
        _t("reopen", "closed", "reopened", STAFF, "Reopen", requires_comment=True),
        _t("close", "resolved", "closed", STAFF + REQUESTER, "Close"),
        _t("cancel", OPEN_STATES, "closed", STAFF, "Close without resolving",
           requires_comment=True),
        _t("merge", OPEN_STATES, "closed", STAFF, "Merge into another ticket",
           requires_comment=True),
    ],
)


@dataclass(frozen=True)
class SystemActor:
    """The software itself: auto-forwarding, auto-closing, escalations. Audited as "system"."""

    id: None = None
    username: str = "system"
    display_name: str = "Sistem Helpdesk"
    role: str = "admin"
    division: None = None
    is_division_head: bool = False
    active: bool = True
    is_authenticated: bool = True


@dataclass(frozen=True)
class RequesterActor:
    """The person who complained, acting on their own ticket.

    A signed-in requester acts as their account; a guest has no account, so after they
    proved who they are (e-mail or phone with the number, or the link from their e-mail)
    they act as this, with the requester role the workflow allows on their own ticket.
    """

    id: int | None
    display_name: str
    username: str = ""
    role: str = "requester"
    division: None = None
    is_division_head: bool = False
    active: bool = True
    is_authenticated: bool = True


SYSTEM = SystemActor()


def requester_of(ticket: Any) -> RequesterActor:
    name = ticket.requester_name or ticket.requester_email or ticket.requester_phone
    return RequesterActor(id=ticket.created_by, display_name=name,
                          username=f"pelapor:{ticket.number}")
