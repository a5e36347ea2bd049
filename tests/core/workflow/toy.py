"""A toy proposal flow on a toy table, and a plugin that listens to transitions.

The toy table lives on its own declarative base: on ``core.db.Base`` it would join the
metadata that ``ruang db check`` compares with the migrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template_string, request, url_for
from flask_login import current_user
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.contracts import Notification, WorkflowEvent
from core.db import Base
from core.instance import ruang
from core.plugins import hookimpl
from core.workflow.engine import Transition, Workflow, WorkflowError
from core.workflow.panel import apply_form, panel, status_code


class ToyBase(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = Base.type_annotation_map


class Proposal(ToyBase):
    __tablename__ = "toy_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(40), default="draft")
    created_by: Mapped[int | None] = mapped_column(default=None)
    email: Mapped[str] = mapped_column(String(200), default="")


def _tell_requester(obj: Any, event: WorkflowEvent) -> list[Notification]:
    return [Notification(subject=f"Proposal {obj.title} approved",
                         body=f"Your proposal #{obj.id} was approved.",
                         email=obj.email, user_id=obj.created_by, topic="toy.approved")]


def _has_title(session: Any, obj: Any) -> str | None:
    return None if obj.title.strip() else "the proposal has no title yet"


PROPOSAL = Workflow(
    "proposal",
    {
        "draft": "Draft",
        "submitted": "Submitted",
        "approved": "Approved",
        "preparing": "In preparation",
        "held": "Held",
        "documented": "Documented",
        "rejected": "Rejected",
    },
    initial="draft",
    transitions=[
        Transition("submit", "draft", "submitted", roles=("owner",), label="Submit"),
        Transition("approve", "submitted", "approved", roles=("head",), label="Approve",
                   notify=_tell_requester),
        Transition("reject", ("submitted", "approved"), "rejected", roles=("head", "approver"),
                   label="Reject", requires_comment=True),
        Transition("prepare", "approved", "preparing", roles=("staff",), divisions=("WDM",),
                   label="Start preparation"),
        Transition("hold", "preparing", "held", roles=("division_head",), divisions=("WDM",),
                   label="Mark as held", guard=_has_title),
        Transition("document", "held", "documented", roles=("staff", "owner"),
                   divisions=("WDM",), label="Upload minutes"),
    ],
)


PAGE = """{% extends "base.html" %}
{% from "workflow/_panel.html" import workflow_panel %}
{% block content %}<h1>{{ p.title }}</h1>{{ workflow_panel(panel) }}{% endblock %}"""


class Inbox:
    """A notification channel that keeps what it is given (the outbox decides when)."""

    name = "toy-inbox"

    def __init__(self) -> None:
        self.delivered: list[Notification] = []

    def can_deliver(self, notification: Notification) -> bool:
        return notification.user_id is not None

    def deliver(self, notification: Notification) -> None:
        self.delivered.append(notification)


class Listener:
    """A plugin, as a third party would write one, reacting to every transition."""

    RUANG_PLUGIN_NAME = "wflistener"

    def __init__(self) -> None:
        self.events: list[WorkflowEvent] = []
        self.inbox = Inbox()
        self.refuse_action: str | None = None
        bp = Blueprint("toywf", __name__, url_prefix="/toy")

        @bp.route("/<int:pid>")
        @require("dashboard.view")
        def show(pid: int) -> str:
            with ruang().db.session() as session:
                p = session.get(Proposal, pid) or abort(404)
                data = panel(session, PROPOSAL, p, current_user, url_for("toywf.act", pid=pid))
            return render_template_string(PAGE, p=p, panel=data)

        @bp.route("/<int:pid>/workflow", methods=["POST"])
        @require("dashboard.view")
        def act(pid: int) -> Response | tuple[str, int]:
            code = 302
            with ruang().db.transaction() as session:
                p = session.get(Proposal, pid) or abort(404)
                try:
                    apply_form(session, PROPOSAL, p, current_user, request.form)
                except WorkflowError as exc:
                    flash(str(exc), "error")
                    code = status_code(exc)
            if code != 302:
                return show(pid), code
            return redirect(url_for("toywf.show", pid=pid))

        self.bp = bp

    @hookimpl
    def ruang_blueprints(self) -> Sequence[Blueprint]:
        return [self.bp]

    @hookimpl
    def ruang_notification_channels(self) -> Sequence[Any]:
        return [self.inbox]

    @hookimpl
    def ruang_workflow_transition(self, session: Any, event: WorkflowEvent) -> None:
        if event.action == self.refuse_action:
            raise RuntimeError(f"the listener refuses {event.action}")
        # The listener sees the change inside the same transaction.
        obj = session.get(Proposal, event.object_id)
        assert obj is not None and obj.state == event.to_state
        self.events.append(event)
