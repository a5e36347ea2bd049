"""The CBT event procedure of the SOP, on the core workflow.

A unit proposes a CBT event (its letter number comes from the records service when it is
submitted) -> Kabag. WDM reviews it (accept, return with comments, or reject) -> WDM and
the requester prepare it: the material is agreed (a published exam), the lab and seats
are reserved through ``core.rooms.service.reserve``, devices are checked, the running
order is written -> sessions are scheduled (lab, time, proctors, candidates on seats) ->
the event is held -> its minutes (berita acara) get their number. Each step is taken only
by the role the workflow names, audited, and notifies the people waiting on it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.accounts.models import User
from core.accounts.roles import Role
from core.audit.service import record as audit
from core.contracts import Notification, RecordType, RoomRequest, WorkflowEvent
from core.db import utcnow
from core.workflow.engine import DIVISION_HEAD, OWNER, Transition, Workflow
from plugins.cbt.models import Candidate, CbtEvent, CbtSession, Exam


def N_(msgid: str) -> str:  # noqa: N802 - marks a msgid; the panel translates it when shown
    return msgid


LETTER = RecordType("CBT-SP", "CBT event proposal letter (surat pengajuan CBT)",
                    "SP-CBT-{seq:03d}/{unit}/{roman_month}/{year}", "yearly")
MINUTES = RecordType("CBT-BA", "Minutes of a CBT event (berita acara CBT)",
                     "BA-CBT-{seq:02d}/{unit}/{year}", "yearly")
WDM = ("WDM",)
WDM_STAFF = (DIVISION_HEAD, Role.STAFF.value)


class EventError(ValueError):
    """A change to an event or its sessions that is refused; the message says why."""


class Proposal(BaseModel):
    """What a requester fills in to propose a CBT event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=200)
    unit: str = Field(min_length=2, max_length=200)
    purpose: str = Field(default="", max_length=4000)
    starts_on: date
    ends_on: date
    expected_candidates: int = Field(ge=1, le=10000)
    material: str = Field(default="", max_length=4000)
    contact: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _dates(self) -> Proposal:
        if self.ends_on < self.starts_on:
            raise ValueError("the event must end on or after the day it starts")
        return self


# -- notifications ---------------------------------------------------------------------------


def _user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id else None


def _to_wdm_heads(obj: Any, event: WorkflowEvent) -> list[Notification]:
    session = object_session(obj)
    if session is None:
        return []
    heads = session.scalars(select(User).where(
        User.division == "WDM", User.is_division_head.is_(True), User.active.is_(True)))
    return [Notification(
        subject=f"Pengajuan CBT {obj.letter_number or ''}: {obj.title}".strip(),
        body=(f"{obj.unit} mengajukan kegiatan CBT \"{obj.title}\" untuk {obj.starts_on:%d-%m-%Y}"
              f" ({obj.expected_candidates} peserta). Mohon ditinjau di Ruang."),
        email=u.email, phone=u.phone, user_id=u.id, topic="cbt.event",
        data={"event_id": obj.id, "action": event.action}) for u in heads]


def _to_requester(obj: Any, event: WorkflowEvent) -> list[Notification]:
    session = object_session(obj)
    owner = _user(session, obj.created_by) if session is not None else None
    if owner is None:
        return []
    words = {"accept": "diterima dan masuk persiapan", "return": "dikembalikan untuk diperbaiki",
             "reject": "ditolak", "schedule": "dijadwalkan", "hold": "dilaksanakan",
             "document": "selesai; berita acara diterbitkan", "cancel": "dibatalkan"}
    text = words.get(event.action, event.to_state)
    body = f"Kegiatan CBT \"{obj.title}\" {text}."
    if event.comment:
        body += f"\n\nCatatan: {event.comment}"
    return [Notification(subject=f"CBT {obj.title}: {text}", body=body, email=owner.email,
                         phone=owner.phone, user_id=owner.id, topic="cbt.event",
                         data={"event_id": obj.id, "action": event.action})]


# -- guards ----------------------------------------------------------------------------------


def checklist(session: Session, event: CbtEvent) -> dict[str, bool]:
    """The preparation checklist, item by item."""
    exam = session.get(Exam, event.exam_id) if event.exam_id else None
    sessions = sessions_of(session, event)
    return {
        "material": bool(event.material_agreed and exam is not None
                         and exam.status == "published"),
        "rooms": bool(sessions) and all(s.reservation for s in sessions),
        "devices": event.devices_checked,
        "running_order": bool(event.running_order.strip()),
    }


def _ready_to_schedule(session: Session, event: Any) -> str | None:
    missing = [name for name, done in checklist(session, event).items() if not done]
    labels = {"material": "agree the material (a published exam)",
              "rooms": "reserve a lab for at least one session",
              "devices": "check the devices", "running_order": "write the running order"}
    problems = [labels[m] for m in missing]
    for s in sessions_of(session, event):
        if not s.proctor_ids:
            problems.append(f"give session {s.id} a proctor")
        seated = session.scalars(select(Candidate.id).where(Candidate.session_id == s.id)).first()
        if seated is None:
            problems.append(f"seat the candidates of session {s.id}")
    return "; ".join(problems) if problems else None


EVENT = Workflow(
    "cbt_event",
    {
        "draft": N_("Draft"),
        "submitted": N_("Submitted to WDM"),
        "returned": N_("Returned for changes"),
        "preparing": N_("In preparation"),
        "scheduled": N_("Scheduled"),
        "held": N_("Held"),
        "documented": N_("Minutes issued"),
        "rejected": N_("Rejected"),
        "cancelled": N_("Cancelled"),
    },
    initial="draft",
    transitions=[
        Transition("submit", ("draft", "returned"), "submitted", roles=(OWNER,),
                   label=N_("Submit the proposal"), notify=_to_wdm_heads),
        Transition("accept", "submitted", "preparing", roles=(DIVISION_HEAD,), divisions=WDM,
                   label=N_("Accept and prepare"), notify=_to_requester),
        Transition("return", "submitted", "returned", roles=(DIVISION_HEAD,), divisions=WDM,
                   label=N_("Return with comments"), requires_comment=True,
                   notify=_to_requester),
        Transition("reject", "submitted", "rejected", roles=(DIVISION_HEAD,), divisions=WDM,
                   label=N_("Reject"), requires_comment=True, notify=_to_requester),
        Transition("schedule", "preparing", "scheduled", roles=WDM_STAFF, divisions=WDM,
                   label=N_("Confirm the schedule"), guard=_ready_to_schedule,
                   notify=_to_requester),
        Transition("hold", "scheduled", "held", roles=WDM_STAFF, divisions=WDM,
                   label=N_("Mark as held"), notify=_to_requester),
        Transition("document", "held", "documented", roles=WDM_STAFF, divisions=WDM,
                   label=N_("Issue the minutes"), notify=_to_requester),
        Transition("cancel", ("draft", "submitted", "returned", "preparing", "scheduled"),
                   "cancelled", roles=(OWNER, DIVISION_HEAD), divisions=WDM,
                   label=N_("Cancel the event"), requires_comment=True, notify=_to_requester),
    ],
)
EDITABLE = ("draft", "returned")
PREPARING = ("preparing",)


def on_transition(session: Session, event: WorkflowEvent) -> None:
    """Side effects of the event workflow, in the transition's own transaction."""
    if event.workflow != EVENT.name:
        return
    obj = session.get(CbtEvent, event.object_id)
    if obj is None:
        return
    from core.records.service import issue

    obj.updated_at = utcnow()
    if event.action == "submit" and not obj.letter_number:
        obj.letter_number = issue(session, LETTER.code, ref_type="cbt_event", ref_id=obj.id,
                                  actor=_user(session, event.actor_id)).number
    elif event.action == "document" and not obj.minutes_number:
        obj.minutes_number = issue(session, MINUTES.code, ref_type="cbt_event_minutes",
                                   ref_id=obj.id, actor=_user(session, event.actor_id)).number
    elif event.action in ("cancel", "reject"):
        for s in sessions_of(session, obj):
            _release(session, s)
    elif event.action == "hold":
        for s in sessions_of(session, obj):
            s.status = "held"


# -- proposals -------------------------------------------------------------------------------


def propose(session: Session, proposal: Proposal, actor: Any) -> CbtEvent:
    event = CbtEvent(title=proposal.title, unit=proposal.unit, purpose=proposal.purpose,
                     starts_on=proposal.starts_on, ends_on=proposal.ends_on,
                     expected_candidates=proposal.expected_candidates,
                     material=proposal.material, contact=proposal.contact,
                     created_by=getattr(actor, "id", None))
    EVENT.start(session, event, actor)
    return event


def update_proposal(session: Session, event: CbtEvent, proposal: Proposal, actor: Any) -> None:
    if event.state not in EDITABLE:
        raise EventError("the proposal can be changed only while it is a draft or returned")
    if event.created_by != getattr(actor, "id", None) and getattr(actor, "role", "") != "admin":
        raise EventError("only the requester changes the proposal")
    for field, value in proposal.model_dump().items():
        setattr(event, field, value)
    event.updated_at = utcnow()
    audit(session, "cbt.event.updated", actor=actor, object_type="cbt_events",
          object_id=event.id)


def events_for(session: Session, user: Any, *, everyone: bool) -> list[CbtEvent]:
    query = select(CbtEvent).order_by(CbtEvent.starts_on.desc(), CbtEvent.id.desc())
    if not everyone:
        query = query.where(CbtEvent.created_by == getattr(user, "id", None))
    return list(session.scalars(query))


# -- preparation -----------------------------------------------------------------------------


def _preparing(event: CbtEvent) -> None:
    if event.state not in PREPARING:
        raise EventError("the preparation can be changed only while the event is in preparation")


def update_checklist(session: Session, event: CbtEvent, actor: Any, *,
                     exam_id: int | None = None, material_agreed: bool | None = None,
                     devices_checked: bool | None = None,
                     running_order: str | None = None) -> None:
    _preparing(event)
    if exam_id is not None:
        exam = session.get(Exam, exam_id)
        if exam is None:
            raise EventError("no such exam")
        if exam.event_id not in (None, event.id):
            raise EventError(f"exam {exam.code} belongs to another event")
        event.exam_id = exam.id
        exam.event_id = event.id
    if material_agreed is not None:
        if material_agreed and event.exam_id is None:
            raise EventError("choose the exam before marking the material agreed")
        event.material_agreed = material_agreed
    if devices_checked is not None:
        event.devices_checked = devices_checked
    if running_order is not None:
        if len(running_order) > 10000:
            raise EventError("the running order is longer than 10000 characters")
        event.running_order = running_order.strip()
    event.updated_at = utcnow()
    audit(session, "cbt.event.checklist", actor=actor, object_type="cbt_events",
          object_id=event.id, details={k: v for k, v in checklist(session, event).items()})


def sessions_of(session: Session, event: CbtEvent) -> list[CbtSession]:
    return list(session.scalars(select(CbtSession).where(CbtSession.event_id == event.id)
                                .order_by(CbtSession.starts_at, CbtSession.id)))


def add_session(session: Session, event: CbtEvent, actor: Any, *, lab_id: int,
                starts_at: datetime, ends_at: datetime, proctor_ids: list[int],
                seats: int | None = None) -> CbtSession:
    """Reserve the lab through the core's room service and record the session."""
    from core.rooms.models import Lab
    from core.rooms.service import reserve

    _preparing(event)
    if event.exam_id is None:
        raise EventError("choose the exam (the agreed material) before scheduling sessions")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise EventError("session times need a time zone")
    if ends_at <= starts_at:
        raise EventError("a session must end after it starts")
    proctors = []
    for pid in proctor_ids:
        user = session.get(User, pid)
        if user is None or not user.active or user.role not in (Role.PROCTOR, Role.STAFF,
                                                                Role.ADMIN):
            raise EventError(f"user {pid} cannot proctor (needs the proctor or staff role)")
        proctors.append(user.id)
    lab = session.get(Lab, lab_id)
    cbt_session = CbtSession(event_id=event.id, exam_id=event.exam_id, lab_id=lab_id,
                             lab_label=f"{lab.name} ({lab.code})" if lab else str(lab_id),
                             starts_at=starts_at, ends_at=ends_at, proctor_ids=proctors)
    session.add(cbt_session)
    session.flush()
    answer = reserve(session, RoomRequest(
        lab_id=lab_id, start=starts_at, end=ends_at, purpose=f"CBT: {event.title}",
        source="cbt", source_ref=f"session-{cbt_session.id}",
        requested_by=getattr(actor, "id", None), seats=seats))
    if not answer.granted:
        # Nothing of a refused session may stay behind in the caller's transaction.
        session.delete(cbt_session)
        session.flush()
        raise EventError(f"the lab was not reserved: {answer.reason}")
    cbt_session.reservation = answer.reference
    audit(session, "cbt.session.scheduled", actor=actor, object_type="cbt_sessions",
          object_id=cbt_session.id, details={"event": event.id, "lab": lab_id,
                                             "reservation": answer.reference,
                                             "conflicts": list(answer.conflicts)})
    return cbt_session


def _release(session: Session, cbt_session: CbtSession) -> None:
    from core.rooms.service import release

    if cbt_session.reservation:
        release(session, cbt_session.reservation)
        cbt_session.reservation = ""
    cbt_session.status = "cancelled"
    for cand in session.scalars(select(Candidate).where(
            Candidate.session_id == cbt_session.id)):
        cand.session_id, cand.lab, cand.seat = None, "", ""


def remove_session(session: Session, event: CbtEvent, session_id: int, actor: Any) -> None:
    _preparing(event)
    cbt_session = session.get(CbtSession, session_id)
    if cbt_session is None or cbt_session.event_id != event.id:
        raise EventError("no such session in this event")
    _release(session, cbt_session)
    session.delete(cbt_session)
    audit(session, "cbt.session.removed", actor=actor, object_type="cbt_sessions",
          object_id=session_id, details={"event": event.id})


def seat_candidates(session: Session, event: CbtEvent, session_id: int, actor: Any,
                    limit: int | None = None) -> list[Candidate]:
    """Put the exam's unseated candidates on the working seats of the session's lab."""
    from core.rooms.models import Lab
    from core.rooms.service import working_seats

    _preparing(event)
    cbt_session = session.get(CbtSession, session_id)
    if cbt_session is None or cbt_session.event_id != event.id:
        raise EventError("no such session in this event")
    taken = set(session.scalars(select(Candidate.seat).where(
        Candidate.session_id == cbt_session.id)))
    free = [s for s in working_seats(session, cbt_session.lab_id) if s.label not in taken]
    waiting = list(session.scalars(select(Candidate).where(
        Candidate.exam_id == cbt_session.exam_id, Candidate.session_id.is_(None))
        .order_by(Candidate.participant_number)))
    if limit is not None:
        waiting = waiting[:limit]
    if not waiting:
        raise EventError("every candidate of the exam already has a seat")
    if len(waiting) > len(free):
        raise EventError(f"{len(waiting)} candidates wait for a seat but the lab has "
                         f"{len(free)} free working seats; add a session or seat fewer")
    lab = session.get(Lab, cbt_session.lab_id)
    for cand, seat in zip(waiting, free, strict=False):
        cand.session_id = cbt_session.id
        cand.lab = lab.name if lab else cbt_session.lab_label
        cand.seat = seat.label
    audit(session, "cbt.session.seated", actor=actor, object_type="cbt_sessions",
          object_id=cbt_session.id, details={"seated": len(waiting)})
    return waiting


def record_types() -> list[RecordType]:
    return [LETTER, MINUTES]
