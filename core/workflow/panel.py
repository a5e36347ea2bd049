"""What a plugin page needs to show a workflow: the state, the action buttons, the history.

In the view::

    from core.workflow.panel import apply_form, panel

    @bp.post("/events/<int:event_id>/workflow")
    @require("cbt.events")
    def event_workflow(event_id):
        with ruang().db.transaction() as session:
            event = session.get(CbtEvent, event_id) or abort(404)
            try:
                apply_form(session, PROPOSAL, event, current_user, request.form)
            except WorkflowError as exc:
                flash(str(exc), "error")
        return redirect(url_for(".event", event_id=event_id))

    # and on the page itself:
    render_template("cbt/event.html", panel=panel(session, PROPOSAL, event, current_user,
                                                  url_for(".event_workflow", event_id=event.id)))

In the template::

    {% from "workflow/_panel.html" import workflow_panel %}
    {{ workflow_panel(panel) }}

Labels of states and actions go through gettext, so a plugin translates them in its own
catalogue by writing the English label as the msgid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from core.contracts import WorkflowEvent
from core.workflow.engine import MAX_COMMENT, Workflow, WorkflowError


@dataclass(frozen=True)
class PanelButton:
    action: str
    label: str
    requires_comment: bool


@dataclass(frozen=True)
class PanelStep:
    at: datetime  # on the instance's wall clock
    action: str
    label: str
    from_label: str
    to_label: str
    actor_name: str
    comment: str


@dataclass(frozen=True)
class Panel:
    workflow: str
    object_id: int
    state: str
    state_label: str
    final: bool
    buttons: list[PanelButton]
    steps: list[PanelStep]
    action_url: str

    @property
    def comment_needed_for(self) -> list[str]:
        return [b.label for b in self.buttons if b.requires_comment]


def _tr(text: str) -> str:
    from flask import has_request_context

    if not text or not has_request_context():
        return text
    from flask_babel import gettext

    return str(gettext(text))


def _timezone() -> ZoneInfo:
    from flask import has_app_context

    if has_app_context():
        from core.instance import ruang

        return ZoneInfo(ruang().settings.timezone)
    return ZoneInfo("Asia/Jakarta")


def panel(session: Session, wf: Workflow, obj: Any, actor: Any, action_url: str) -> Panel:
    """Everything ``workflow/_panel.html`` shows for ``obj``, as ``actor`` may act on it."""
    tz = _timezone()
    titles = {t.action: t.title for t in wf.transitions}
    steps = [
        PanelStep(
            at=step.at.astimezone(tz), action=step.action,
            label=_tr("Created") if step.action == "start" else _tr(titles.get(step.action,
                                                                              step.action)),
            from_label=_tr(wf.label(step.from_state)) if step.from_state else "",
            to_label=_tr(wf.label(step.to_state)), actor_name=step.actor_name,
            comment=step.comment,
        )
        for step in wf.history(session, obj)
    ]
    buttons = [PanelButton(t.action, _tr(t.title), t.requires_comment)
               for t in wf.allowed(obj, actor)]
    return Panel(workflow=wf.name, object_id=obj.id, state=obj.state,
                 state_label=_tr(wf.label(obj.state)), final=wf.is_final(obj.state),
                 buttons=buttons, steps=steps, action_url=action_url)


class TransitionForm(BaseModel):
    """What the panel's form posts."""

    action: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    comment: str = Field(default="", max_length=MAX_COMMENT)


def apply_form(session: Session, wf: Workflow, obj: Any, actor: Any,
               form: Mapping[str, Any]) -> WorkflowEvent:
    """Validate the panel's form and take the chosen action; :class:`WorkflowError` if not."""
    raw = {key: form.get(key) for key in ("action", "comment") if form.get(key) is not None}
    try:
        data = TransitionForm.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise WorkflowError(f"bad workflow form ({field}: {problem['msg']})", "invalid") from None
    return wf.apply(session, obj, data.action, actor, data.comment)


def status_code(error: WorkflowError) -> int:
    """The HTTP status a view answers a refused transition with."""
    return {"role": 403, "invalid": 400, "unknown": 400}.get(error.kind, 409)
