"""A small state machine for the SOP's proposal -> approval -> preparation -> held -> documented
flows, shared by the CBT, lab, training, certification and helpdesk plugins.

A plugin declares its flow once::

    PROPOSAL = Workflow(
        "cbt_event",
        {"draft": "Draft", "submitted": "Submitted", "approved": "Approved", ...},
        initial="draft",
        transitions=[
            Transition("submit", "draft", "submitted", roles=("owner", "staff")),
            Transition("approve", "submitted", "approved", roles=("head",)),
            Transition("reject", ("submitted", "approved"), "rejected", roles=("head",),
                       requires_comment=True),
        ],
    )

and moves an object (any mapped object with ``id`` and a string ``state``) with
``PROPOSAL.apply(session, obj, "approve", actor)`` inside its write transaction. Every
transition is checked (state, role, division, comment, guard), recorded in
``workflow_history``, audited, announced through ``ruang_workflow_transition`` and may
queue notifications; a refused one raises :class:`WorkflowError` and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.accounts.roles import Division, Role
from core.audit.service import lock_chain
from core.audit.service import record as audit
from core.contracts import Notification, WorkflowEvent
from core.db import in_write_transaction, utcnow
from core.workflow.models import WorkflowStep

__all__ = ["Transition", "Workflow", "WorkflowError", "WorkflowStep", "history"]

log = logging.getLogger(__name__)

OWNER = "owner"  # obj.created_by == actor.id
DIVISION_HEAD = "division_head"  # Kabag.: a staff member who heads one of ``divisions``
PSEUDO_ROLES = (OWNER, DIVISION_HEAD)
STAFF_ROLES = (Role.STAFF.value, DIVISION_HEAD)
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_COMMENT = 4000

Refusal = Literal["unknown", "state", "role", "comment", "guard", "conflict", "invalid"]


class WorkflowError(ValueError):
    """A transition was refused; the message says why and what is possible instead.

    ``kind`` tells views how to answer: ``role`` is a permission problem (403), the rest
    are conflicts with the object's state or bad input.
    """

    def __init__(self, message: str, kind: Refusal = "invalid") -> None:
        super().__init__(message)
        self.kind: Refusal = kind


@dataclass(frozen=True)
class Transition:
    """One edge of a workflow: ``action`` moves an object from ``source`` to ``target``.

    ``roles`` may take it (``"owner"``: the user in ``obj.created_by``; ``"division_head"``:
    a Kabag.); admins may take every transition. ``divisions``, when given, narrows the
    staff roles to those divisions; Ka. BPTI, WR II and the other roles stand above them.
    ``guard(session, obj)`` returns a reason to refuse, or ``None``. ``notify(obj, event)``
    returns the notifications to queue once the transition is made.
    """

    action: str
    source: str | tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    divisions: tuple[str, ...] = ()
    label: str = ""
    requires_comment: bool = False
    notify: Callable[[Any, WorkflowEvent], list[Notification]] | None = None
    guard: Callable[[Session, Any], str | None] | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)

    @property
    def title(self) -> str:
        """What a button says: the label, or the action's name."""
        return self.label or self.action.replace("_", " ")


class Workflow:
    """A named set of states and the transitions between them, checked when it is built."""

    def __init__(
        self,
        name: str,
        states: dict[str, str],
        initial: str,
        transitions: Sequence[Transition],
    ) -> None:
        if not NAME_RE.match(name):
            raise WorkflowError(f"workflow name {name!r}: use 1-40 lower-case letters, digits "
                                "and '_', starting with a letter")
        if not states:
            raise WorkflowError(f"workflow {name} has no states")
        for state in states:
            if not NAME_RE.match(state):
                raise WorkflowError(f"workflow {name}: state name {state!r} must be 1-40 "
                                    "lower-case letters, digits and '_'")
        if initial not in states:
            raise WorkflowError(f"workflow {name}: initial state {initial!r} is not one of "
                                f"its states ({', '.join(states)})")
        known_roles = {r.value for r in Role} | set(PSEUDO_ROLES)
        known_divisions = {d.value for d in Division}
        seen: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            where = f"workflow {name}, action {t.action!r}"
            if not NAME_RE.match(t.action) or t.action == "start":
                raise WorkflowError(f"{where}: an action name is 1-40 lower-case letters, digits "
                                    "and '_' (and 'start' is reserved)")
            if not t.sources:
                raise WorkflowError(f"{where}: no source state")
            for state in (*t.sources, t.target):
                if state not in states:
                    raise WorkflowError(f"{where}: unknown state {state!r}; states are "
                                        f"{', '.join(states)}")
            if isinstance(t.roles, str):
                raise WorkflowError(f"{where}: roles must be a tuple, e.g. ({t.roles!r},)")
            for role in t.roles:
                if role not in known_roles:
                    raise WorkflowError(f"{where}: unknown role {role!r}; roles are "
                                        f"{', '.join(sorted(known_roles))}")
            for division in t.divisions:
                if division not in known_divisions:
                    raise WorkflowError(f"{where}: unknown division {division!r}; divisions are "
                                        f"{', '.join(sorted(known_divisions))}")
            for state in t.sources:
                if (t.action, state) in seen:
                    raise WorkflowError(f"{where}: declared twice from state {state!r}")
                seen[(t.action, state)] = t
        self.name = name
        self.states: dict[str, str] = dict(states)
        self.initial = initial
        self.transitions: tuple[Transition, ...] = tuple(transitions)

    def __repr__(self) -> str:
        return f"<Workflow {self.name}: {len(self.states)} states>"

    @property
    def initial_state(self) -> str:
        return self.initial

    def label(self, state: str) -> str:
        return self.states.get(state, state)

    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def is_final(self, state: str) -> bool:
        return not self.transitions_from(state)

    # -- who may ------------------------------------------------------------------------

    def refusal(self, transition: Transition, obj: Any, actor: Any) -> str | None:
        """Why ``actor`` may not take ``transition`` on ``obj`` (roles only), or ``None``."""
        if actor is None or not getattr(actor, "is_authenticated", False):
            return "needs a signed-in user"
        if not getattr(actor, "active", True):
            return "the account is deactivated"
        role = getattr(actor, "role", None)
        if role == Role.ADMIN:
            return None
        division = getattr(actor, "division", None)
        in_division = not transition.divisions or division in transition.divisions
        for allowed in transition.roles:
            if allowed == OWNER:
                owner = getattr(obj, "created_by", None)
                if owner is not None and owner == getattr(actor, "id", None):
                    return None
            elif allowed == DIVISION_HEAD:
                if role == Role.STAFF and getattr(actor, "is_division_head", False) and in_division:
                    return None
            elif allowed == role and (allowed not in STAFF_ROLES or in_division):
                return None
        return "needs role " + _describe_roles(transition)

    def allowed(self, obj: Any, actor: Any) -> list[Transition]:
        """The transitions ``actor`` may take on ``obj`` now (guards are checked on apply)."""
        return [t for t in self.transitions_from(obj.state)
                if self.refusal(t, obj, actor) is None]

    # -- moving -------------------------------------------------------------------------

    def _noun(self, obj: Any) -> str:
        return f"{self.name} #{getattr(obj, 'id', '?')}"

    def _find(self, obj: Any, action: str) -> Transition:
        state = obj.state
        if state not in self.states:
            raise WorkflowError(f"{self._noun(obj)} is in state {state!r}, which workflow "
                                f"{self.name} does not know", "state")
        candidates = [t for t in self.transitions if t.action == action]
        if not candidates:
            raise WorkflowError(f"{self.name} has no action {action!r}; its actions are: "
                                f"{', '.join(self.actions())}", "unknown")
        for t in candidates:
            if state in t.sources:
                return t
        possible = ", ".join(dict.fromkeys(t.action for t in self.transitions_from(state)))
        raise WorkflowError(f"cannot {action!r} {self._noun(obj)} while it is {state!r}; "
                            f"possible now: {possible or 'nothing (it is final)'}", "state")

    def apply(self, session: Session, obj: Any, action: str, actor: Any,
              comment: str = "") -> WorkflowEvent:
        """Take ``action`` on ``obj`` for ``actor`` inside ``session``'s write transaction.

        Raises :class:`WorkflowError` (and changes nothing) when the action is unknown, not
        possible from the object's state, not open to the actor, lacks a required comment,
        is refused by its guard, or when another transaction moved the object first.
        """
        _require_write(session)
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT:
            raise WorkflowError(f"the comment is {len(comment)} characters long; at most "
                                f"{MAX_COMMENT}", "invalid")
        t = self._find(obj, action)
        reason = self.refusal(t, obj, actor)
        if reason is not None:
            raise WorkflowError(f"cannot {action!r} {self._noun(obj)}: {reason}", "role")
        if t.requires_comment and not comment:
            raise WorkflowError(f"cannot {action!r} {self._noun(obj)} without a comment "
                                "saying why", "comment")
        if t.guard is not None:
            reason = t.guard(session, obj)
            if reason:
                raise WorkflowError(f"cannot {action!r} {self._noun(obj)}: {reason}", "guard")
        if getattr(obj, "id", None) is None:
            session.flush()
        if getattr(obj, "id", None) is None:
            raise WorkflowError(f"{type(obj).__name__} has no id; add it to the session first")
        from_state = obj.state
        self._move(session, obj, from_state, t.target, action)
        event = self._record(session, obj, action, from_state, t.target, actor, comment)
        _announce(session, event)
        if t.notify is not None:
            _queue(session, t.notify(obj, event))
        return event

    def start(self, session: Session, obj: Any, actor: Any, comment: str = "") -> WorkflowEvent:
        """Put a new ``obj`` in the initial state and record that it entered the workflow.

        Optional: call it right after creating an object so its history starts with who
        created it. Announced and audited like a transition, with action ``"start"``.
        """
        _require_write(session)
        obj.state = self.initial
        session.add(obj)
        session.flush()
        event = self._record(session, obj, "start", "", self.initial, actor, comment.strip())
        _announce(session, event)
        return event

    def _move(self, session: Session, obj: Any, from_state: str, to_state: str,
              action: str) -> None:
        """Compare-and-set the state, so that of two people acting at once only one wins.

        On PostgreSQL the audit chain's lock is taken before the object's row lock: this
        transaction audits next, and one that audited before moving the same object would
        otherwise hold the audit lock while waiting for our row, and we for its audit lock.
        """
        session.flush()
        lock_chain(session)
        cls = type(obj)
        result = session.execute(
            update(cls)
            .where(cls.id == obj.id, cls.state == from_state)
            .values(state=to_state)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            session.refresh(obj, attribute_names=["state"])
            raise WorkflowError(f"cannot {action!r} {self._noun(obj)}: it was changed meanwhile "
                                f"and is now {obj.state!r}; reload and try again", "conflict")
        # Also through the ORM, so the object follows and ``onupdate`` columns fire.
        obj.state = to_state

    def _record(self, session: Session, obj: Any, action: str, from_state: str,
                to_state: str, actor: Any, comment: str) -> WorkflowEvent:
        object_type = _object_type(obj)
        actor_id = getattr(actor, "id", None)
        step = WorkflowStep(
            workflow=self.name, object_type=object_type, object_id=obj.id, action=action,
            from_state=from_state, to_state=to_state, actor_id=actor_id,
            actor_name=str(getattr(actor, "display_name", "") or getattr(actor, "username", "")
                           or ""),
            comment=comment, at=utcnow(),
        )
        session.add(step)
        session.flush()
        audit(session, f"{self.name}.{action}", actor=actor, object_type=object_type,
              object_id=obj.id, details={"workflow": self.name, "from": from_state,
                                         "to": to_state, "comment": comment})
        return WorkflowEvent(workflow=self.name, object_type=object_type, object_id=obj.id,
                             action=action, from_state=from_state, to_state=to_state,
                             actor_id=actor_id, comment=comment)

    def history(self, session: Session, obj: Any) -> list[WorkflowStep]:
        return history(session, self.name, obj.id)


def history(session: Session, workflow_name: str, object_id: int) -> list[WorkflowStep]:
    """The transitions of one object in one workflow, oldest first."""
    stmt = (
        select(WorkflowStep)
        .where(WorkflowStep.workflow == workflow_name, WorkflowStep.object_id == object_id)
        .order_by(WorkflowStep.at, WorkflowStep.id)
    )
    return list(session.scalars(stmt))


def _require_write(session: Session) -> None:
    """Moves happen in ``db.transaction()``: a read session would silently drop
    the change when it closes, and could not take the write lock safely half-way."""
    if not in_write_transaction(session):
        raise WorkflowError("workflow transitions run inside a write transaction: "
                            "use `with db.transaction() as session:`")


def _object_type(obj: Any) -> str:
    return str(getattr(obj, "__tablename__", None) or type(obj).__name__.lower())


def _describe_roles(t: Transition) -> str:
    divisions = "/".join(t.divisions)
    parts: list[str] = []
    for role in t.roles:
        if role == OWNER:
            parts.append("owner (whoever created it)")
        elif role == DIVISION_HEAD:
            parts.append(f"division head{f' of {divisions}' if divisions else ''}")
        elif role == Role.STAFF and divisions:
            parts.append(f"staff of {divisions}")
        else:
            parts.append(role)
    return " or ".join(parts) if parts else "admin"


def _announce(session: Session, event: WorkflowEvent) -> None:
    from flask import has_app_context

    if not has_app_context():
        return  # no app, no plugins to tell (a bare script)
    from core.instance import ruang

    ruang().plugins.hook.ruang_workflow_transition(session=session, event=event)


def _queue(session: Session, notifications: Sequence[Notification] | None) -> None:
    if not notifications:
        return
    try:
        from core.notify.service import queue
    except ModuleNotFoundError as exc:  # pragma: no cover - only while core.notify is young
        if exc.name != "core.notify.service":
            raise
        log.warning("%d notification(s) not queued: core.notify.service is missing",
                    len(notifications))
        return
    for notification in notifications:
        queue(session, notification)
