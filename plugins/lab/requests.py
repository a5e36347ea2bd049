"""Lab requests: availability, submission (portal or letter), approval, delegation,
preparation, check-in and check-out, cancellation. Callable without HTTP.

Every function takes the caller's write session (``db.transaction()``), moves the request
through :data:`plugins.lab.flows.LAB_REQUEST` (recorded, audited, announced), keeps the
lab's holds in step (approval places them, cancellation and check-out release them) and
queues the e-mails of the step. A refused step raises :class:`LabError` (or the core's
``WorkflowError``) and, because the caller's transaction rolls back, changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from core.records import service as records
from core.rooms import service as rooms
from core.rooms.models import Lab
from core.workflow.engine import WorkflowError
from plugins.lab import catalog, holds, notices, people
from plugins.lab.errors import N_, LabError, SlotTaken, describe, tr
from plugins.lab.flows import LAB_REQUEST
from plugins.lab.models import (
    Channel,
    HoldKind,
    LabRequest,
    Occurrence,
    OccurrenceStatus,
    PreparationItem,
    RequestState,
    SeatUse,
    UsageEntry,
    UsageKind,
)
from plugins.lab.options import setting
from plugins.lab.timeslots import MAX_WEEKS, Slot, local, today, weekly

RECORD_CODE = "LAB"
CHECK_IN_EARLY = timedelta(minutes=60)  # staff may open the lab an hour before the start


# -- the forms -----------------------------------------------------------------------------


class RequestForm(BaseModel):
    """What a requester fills in on the portal."""

    model_config = ConfigDict(str_strip_whitespace=True)

    lab_id: int = Field(gt=0)
    first_day: date
    start_time: time
    end_time: time
    weekly: bool = False
    last_day: date | None = None
    skip_days: list[date] = Field(default_factory=list, max_length=MAX_WEEKS)
    purpose: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=4000)
    participants: int = Field(ge=1, le=1000)
    software_needed: str = Field(default="", max_length=2000)
    requester_phone: str = Field(default="", max_length=40)

    @field_validator("skip_days", mode="before")
    @classmethod
    def _split_days(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @model_validator(mode="after")
    def _times(self) -> RequestForm:
        if self.end_time <= self.start_time:
            raise ValueError(N_("The end time must be after the start time."))
        if self.weekly and self.last_day is None:
            raise ValueError(N_("A weekly booking needs the date of its last week."))
        if not self.weekly:
            self.last_day = self.first_day
            self.skip_days = []
        return self


class LetterForm(RequestForm):
    """A request that came as a letter to Ka. BPTI, typed in by staff."""

    letter_number: str = Field(min_length=1, max_length=100)
    letter_date: date
    requester_name: str = Field(min_length=2, max_length=200)
    requester_unit: str = Field(default="", max_length=200)
    requester_email: EmailStr | None = None

    @field_validator("requester_email", mode="before")
    @classmethod
    def _blank_email(cls, value: Any) -> Any:
        return None if value in ("", None) else value


FIELD_NAMES = {
    "lab_id": N_("Lab"), "first_day": N_("Date"), "start_time": N_("Start"),
    "end_time": N_("End"), "last_day": N_("Last week"), "skip_days": N_("Weeks left out"),
    "purpose": N_("Purpose"), "description": N_("Description"),
    "participants": N_("Number of users"), "software_needed": N_("Software needed"),
    "requester_phone": N_("Phone"), "letter_number": N_("Letter number"),
    "letter_date": N_("Letter date"), "requester_name": N_("Requester"),
    "requester_unit": N_("Unit"), "requester_email": N_("E-mail"),
}


def parse_form(data: dict[str, Any], *, letter: bool = False) -> RequestForm:
    """Validate posted fields; :class:`LabError` names the field and the problem."""
    cls = LetterForm if letter else RequestForm
    clean = {k: v for k, v in data.items() if v not in ("", None) or k in ("weekly",)}
    clean["weekly"] = str(data.get("weekly", "")).lower() in ("1", "on", "true", "yes")
    try:
        return cls.model_validate(clean)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        name = str(err["loc"][0]) if err["loc"] else ""
        message = describe(err)
        if name in FIELD_NAMES:
            raise LabError(N_("%(field)s: %(msg)s"), field=_label(FIELD_NAMES[name]),
                           msg=message) from None
        raise LabError(N_("%(msg)s"), msg=message) from None


def _label(msgid: str) -> str:
    return tr(msgid)


# -- availability --------------------------------------------------------------------------


@dataclass
class SlotCheck:
    """One asked occurrence and what stands in its way."""

    slot: Slot
    clashes: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # other requests waiting for approval

    @property
    def free(self) -> bool:
        return not self.clashes


@dataclass
class Availability:
    """The answer shown before submitting: each occurrence, and what blocks the request."""

    lab: Lab
    slots: list[SlotCheck]
    working_seats: int
    problems: list[str] = field(default_factory=list)  # the request cannot go in
    warnings: list[str] = field(default_factory=list)  # it can, but read this

    @property
    def free_slots(self) -> list[SlotCheck]:
        return [s for s in self.slots if s.free]

    @property
    def taken_slots(self) -> list[SlotCheck]:
        return [s for s in self.slots if not s.free]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.free_slots)


def _(msgid: str, **params: Any) -> str:
    return tr(msgid, **params)


def foreign_busy(session: Session, lab_id: int, start: datetime, end: datetime,
                 exclude_source: str = "") -> list[str]:
    """What other plugins report for the lab that the lab plugin does not hold itself (a CBT
    session reserved while this plugin was switched off, say)."""
    found = []
    for item in rooms.busy(session, lab_id, start, end):
        if item.source in ("lab", exclude_source):
            continue
        covered = holds.holds_between(session, item.start, item.end, lab_id)
        if any(h.source == item.source for h in covered):
            continue
        a, b = local(item.start), local(item.end)
        found.append(f"{item.title} ({item.source}, {a:%d-%m-%Y %H:%M}-{b:%H:%M})")
    return found


def slot_clashes(session: Session, lab_id: int, start: datetime, end: datetime,
                 ignore: Sequence[str] = ()) -> list[str]:
    clashes = [c.describe() for c in holds.conflicts(session, lab_id, start, end, ignore)]
    return clashes + foreign_busy(session, lab_id, start, end)


def _pending_overlaps(session: Session, lab_id: int, slot: Slot,
                      exclude_request: int | None = None) -> list[str]:
    stmt = (
        select(Occurrence, LabRequest)
        .join(LabRequest, LabRequest.id == Occurrence.request_id)
        .where(Occurrence.lab_id == lab_id,
               Occurrence.status == OccurrenceStatus.REQUESTED.value,
               Occurrence.starts_at < slot.end, Occurrence.ends_at > slot.start,
               LabRequest.state == RequestState.SUBMITTED.value)
    )
    out = []
    for _occ, req in session.execute(stmt):
        if req.id != exclude_request:
            out.append(f"{req.number} ({req.purpose})")
    return out


def check(session: Session, form: RequestForm, *, channel: Channel = Channel.PORTAL,
          now: datetime | None = None) -> Availability:
    """Everything a requester should know before submitting ``form``."""
    lab = session.get(Lab, form.lab_id)
    if lab is None:
        raise LabError(N_("That lab does not exist."))
    prof = catalog.profile(session, lab.id)
    slots = weekly(form.first_day, form.start_time, form.end_time, form.last_day,
                   frozenset(form.skip_days))
    working = len(rooms.working_seats(session, lab.id))
    result = Availability(lab=lab, slots=[], working_seats=working)
    if not lab.active:
        result.problems.append(_("Lab %(code)s is not in use.", code=lab.code))
    if channel == Channel.PORTAL and not prof.bookable:
        result.problems.append(_("Lab %(code)s cannot be booked through the portal; "
                                  "write to Ka. BPTI.", code=lab.code))
    if form.participants > working:
        result.problems.append(_(
            "%(lab)s has %(working)d working PCs; %(asked)d users were asked for.",
            lab=lab.code, working=working, asked=form.participants))
    if form.start_time < prof.open_from or form.end_time > prof.open_until:
        result.problems.append(_("%(lab)s is open from %(open)s to %(close)s.", lab=lab.code,
                                  open=prof.open_from.strftime("%H:%M"),
                                  close=prof.open_until.strftime("%H:%M")))
    weekday = str(form.first_day.isoweekday())
    if weekday not in prof.open_days:
        result.problems.append(_("%(lab)s is closed on that day of the week.", lab=lab.code))
    moment = now or utcnow()
    if slots[0].start <= moment:
        result.problems.append(_("The first session must be in the future."))
    elif channel == Channel.PORTAL:
        notice = int(setting(session, "lab.min_notice_hours"))
        if slots[0].start < moment + timedelta(hours=notice):
            result.problems.append(_("Ask at least %(hours)d hours ahead; for a sooner date "
                                      "contact BPTI (YANSI).", hours=notice))
    for slot in slots:
        result.slots.append(SlotCheck(
            slot=slot,
            clashes=slot_clashes(session, lab.id, slot.start, slot.end),
            pending=_pending_overlaps(session, lab.id, slot),
        ))
    if not result.free_slots:
        result.problems.append(_("The lab is taken at every asked time."))
    elif result.taken_slots:
        result.warnings.append(_(
            "%(n)d of the %(total)d sessions clash with existing bookings and will be left out.",
            n=len(result.taken_slots), total=len(result.slots)))
    if any(s.pending for s in result.slots):
        result.warnings.append(_("Another request for this time is waiting for approval; "
                                  "the first one approved gets the lab."))
    missing = catalog.missing_software(session, lab.id, _software_list(form.software_needed))
    if missing:
        result.warnings.append(_("Not installed in this lab yet (BPTI will install it if it "
                                  "can): %(names)s", names=", ".join(missing)))
    return result


def _software_list(text: str) -> list[str]:
    parts = text.replace(";", "\n").replace(",", "\n").splitlines()
    return [p.strip() for p in parts if p.strip()]


# -- submission ----------------------------------------------------------------------------


def submit(session: Session, form: RequestForm, actor: Any, *,
           channel: Channel = Channel.PORTAL, letter_file: str = "",
           now: datetime | None = None) -> tuple[LabRequest, Availability]:
    """File a request. Sessions that clash with existing bookings are kept as ``conflict``
    (so the requester sees which weeks were left out); the rest wait for Ka. BPTI."""
    result = check(session, form, channel=channel, now=now)
    if result.problems:
        raise LabError(N_("%(problems)s"), problems=" ".join(result.problems))
    lab = result.lab
    if isinstance(form, LetterForm):
        requester_id = None
        name, unit = form.requester_name, form.requester_unit
        email, phone = str(form.requester_email or ""), form.requester_phone
        letter_number, letter_date = form.letter_number, form.letter_date
    else:
        requester_id = actor.id
        name = actor.display_name
        unit = getattr(actor, "unit", "") or ""
        email, phone = actor.email, form.requester_phone or actor.phone
        letter_number, letter_date = "", None
    req = LabRequest(
        number="-", state=RequestState.SUBMITTED.value, channel=channel.value, lab_id=lab.id,
        requester_id=requester_id, requester_name=name, requester_unit=unit,
        requester_email=email, requester_phone=phone, purpose=form.purpose,
        description=form.description, participants=form.participants,
        software_needed=form.software_needed, first_day=form.first_day,
        last_day=form.last_day or form.first_day, start_time=form.start_time,
        end_time=form.end_time, weekly=form.weekly, letter_number=letter_number,
        letter_date=letter_date, letter_file=letter_file, created_by=actor.id,
    )
    session.add(req)
    session.flush()
    req.number = records.issue(session, RECORD_CODE, ref_type="lab_request", ref_id=req.id,
                               actor=actor).number
    for check_ in result.slots:
        status = OccurrenceStatus.REQUESTED if check_.free else OccurrenceStatus.CONFLICT
        note = "; ".join(check_.clashes)[:300]
        session.add(Occurrence(request_id=req.id, lab_id=lab.id, starts_at=check_.slot.start,
                               ends_at=check_.slot.end, status=status.value, note=note))
    session.flush()
    session.refresh(req)
    LAB_REQUEST.start(session, req, actor, comment=_channel_comment(req))
    audit(session, "lab.request.submit", actor=actor, object_type="lab_request",
          object_id=req.id, details={
              "number": req.number, "lab": lab.code, "channel": channel.value,
              "sessions": len(result.free_slots), "left_out": len(result.taken_slots),
              "letter_number": letter_number})
    notices.queue(session, notices.submitted(session, req, _lab_name(lab),
                                             len(result.taken_slots)))
    return req, result


def _channel_comment(req: LabRequest) -> str:
    if req.channel == Channel.LETTER:
        return f"Surat {req.letter_number}"
    return "Portal"


def _lab_name(lab: Lab) -> str:
    return f"{lab.code} {lab.name}".strip()


# -- decisions -----------------------------------------------------------------------------


def _lab(session: Session, req: LabRequest) -> Lab:
    lab = session.get(Lab, req.lab_id)
    assert lab is not None
    return lab


def _may(req: LabRequest, action: str, actor: Any) -> None:
    """Refuse before touching anything when ``actor`` may not take ``action``."""
    for t in LAB_REQUEST.transitions_from(req.state):
        if t.action == action:
            reason = LAB_REQUEST.refusal(t, req, actor)
            if reason:
                raise WorkflowError(f"cannot {action!r} lab_request #{req.id}: {reason}",
                                    "role")
            return
    raise WorkflowError(f"cannot {action!r} lab request {req.number} while it is "
                        f"{req.state!r}", "state")


@dataclass
class Approval:
    booked: list[Occurrence]
    left_out: list[tuple[Occurrence, str]]


def approve(session: Session, req: LabRequest, actor: Any, *, comment: str = "",
            skip_conflicts: bool = False, delegate: bool = True) -> Approval:
    """Ka. BPTI approves: every asked session takes its hold on the lab.

    If a session clashes (a booking approved meanwhile, a CBT session reserved since), the
    approval is refused and lists the clashes, unless ``skip_conflicts`` leaves those weeks
    out. Two approvals racing for the same time cannot both win: the hold's constraint in
    the database refuses the second one even when both checked before either wrote.
    """
    _may(req, "approve", actor)
    lab = _lab(session, req)
    if not lab.active:
        raise LabError(N_("Lab %(code)s is not in use."), code=lab.code)
    result = Approval(booked=[], left_out=[])
    asked = [o for o in req.occurrences if o.status == OccurrenceStatus.REQUESTED]
    if not asked:
        raise LabError(N_("No session of this request can still be booked."))
    failures: list[tuple[Occurrence, str]] = []
    for occ in asked:
        if occ.starts_at <= utcnow():
            failures.append((occ, _("this session has already started")))
            continue
        foreign = foreign_busy(session, lab.id, occ.starts_at, occ.ends_at)
        if foreign:
            failures.append((occ, "; ".join(foreign)))
            continue
        try:
            holds.place(session, lab_id=lab.id, start=occ.starts_at, end=occ.ends_at,
                        kind=HoldKind.BOOKING, title=f"{req.number} {req.purpose}",
                        reference=f"lab-occ-{occ.id}", occurrence_id=occ.id, source="lab",
                        source_ref=f"lab_request:{req.id}", seats=req.participants,
                        created_by=actor.id)
        except SlotTaken as exc:
            failures.append((occ, "; ".join(exc.conflicts) or exc.translated()))
            continue
        occ.status = OccurrenceStatus.BOOKED.value
        result.booked.append(occ)
    if failures and not skip_conflicts:
        what = "; ".join(f"{local(o.starts_at):%d-%m-%Y}: {why}" for o, why in failures)
        raise SlotTaken(N_("Not approved: the lab is taken for %(n)d session(s): %(what)s"),
                        conflicts=tuple(why for _o, why in failures), n=len(failures),
                        what=what)
    for occ, why in failures:
        occ.status = OccurrenceStatus.CONFLICT.value
        occ.note = why[:300]
        result.left_out.append((occ, why))
    if not result.booked:
        raise SlotTaken(N_("Not approved: the lab is taken at every asked time."),
                        conflicts=tuple(why for _o, why in failures))
    session.flush()
    LAB_REQUEST.apply(session, req, "approve", actor, comment)
    notices.queue(session, notices.approved(session, req, _lab_name(lab)))
    if delegate:
        delegate_to_yansi(session, req, actor)
    return result


def reject(session: Session, req: LabRequest, actor: Any, reason: str) -> None:
    LAB_REQUEST.apply(session, req, "reject", actor, reason)
    for occ in req.occurrences:
        if occ.status == OccurrenceStatus.REQUESTED:
            occ.status = OccurrenceStatus.CANCELLED.value
    notices.queue(session, notices.rejected(session, req, _lab_name(_lab(session, req)),
                                            reason))


def delegate_to_yansi(session: Session, req: LabRequest, actor: Any, comment: str = "") -> None:
    kabag = people.kabag_yansi(session)
    if kabag is None:
        raise LabError(N_("No Kabag. YANSI is registered (a staff member of YANSI who heads "
                          "the division); add one on the users page."))
    req.coordinator_id = kabag.id
    LAB_REQUEST.apply(session, req, "delegate", actor, comment)
    notices.queue(session, notices.delegated(session, req, _lab_name(_lab(session, req))))


def default_checklist(session: Session, req: LabRequest) -> list[str]:
    """The preparation checklist a request starts with: the house list, and one item per
    requested program the lab does not have yet."""
    items = [str(i) for i in setting(session, "lab.checklist")]
    # Stored data, read by everyone: in the instance's language, not the reader's.
    with notices.in_language(None):
        for name in catalog.missing_software(session, req.lab_id, req.software_list):
            items.append(_("Install %(name)s", name=name))
    return items


class AssignForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    assignee_id: int = Field(gt=0)
    items: list[str] = Field(min_length=1, max_length=40)
    comment: str = Field(default="", max_length=4000)

    @field_validator("items", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.splitlines()
        return [str(v).strip()[:200] for v in value if str(v).strip()]


def assign(session: Session, req: LabRequest, actor: Any, form: AssignForm) -> None:
    """Kabag. YANSI gives the preparation, with its checklist, to a staff member."""
    _may(req, "assign", actor)
    assignee = people.user(session, form.assignee_id)
    if assignee is None or assignee.role not in ("staff", "admin") or not assignee.active:
        raise LabError(N_("Choose an active BPTI staff member to prepare the lab."))
    req.assignee_id = assignee.id
    req.checklist.clear()
    session.flush()
    for position, label in enumerate(form.items):
        req.checklist.append(PreparationItem(position=position, label=label,
                                           assignee_id=assignee.id))
    session.flush()
    LAB_REQUEST.apply(session, req, "assign", actor, form.comment)
    audit(session, "lab.request.assign", actor=actor, object_type="lab_request",
          object_id=req.id, details={"assignee": assignee.username, "items": form.items})
    notices.queue(session, notices.assigned(session, req, _lab_name(_lab(session, req))))


def tick(session: Session, item: PreparationItem, actor: Any, done: bool, note: str = "") -> None:
    """Tick (or untick) a checklist item; only while the lab is being prepared."""
    req = item.request
    if req.state != RequestState.PREPARING:
        raise LabError(N_("The checklist can only change while the lab is being prepared."))
    if item.done == done and item.note == note[:300]:
        return
    item.done = done
    item.note = note.strip()[:300]
    item.done_by = actor.id if done else None
    item.done_at = utcnow() if done else None
    session.flush()
    audit(session, "lab.checklist.tick" if done else "lab.checklist.untick", actor=actor,
          object_type="lab_request", object_id=req.id,
          details={"item": item.label, "note": item.note})


def mark_ready(session: Session, req: LabRequest, actor: Any, comment: str = "") -> None:
    LAB_REQUEST.apply(session, req, "mark_ready", actor, comment)
    notices.queue(session, notices.ready(session, req, _lab_name(_lab(session, req))))


# -- the session itself --------------------------------------------------------------------


def current_occurrence(req: LabRequest, now: datetime | None = None) -> Occurrence | None:
    """The session to check in or out now: the one checked in, or the next booked one that
    starts within the hour."""
    moment = now or utcnow()
    for occ in req.occurrences:
        if occ.status == OccurrenceStatus.CHECKED_IN:
            return occ
    for occ in req.occurrences:
        if (occ.status == OccurrenceStatus.BOOKED and occ.starts_at - CHECK_IN_EARLY <= moment
                and moment < occ.ends_at):
            return occ
    return None


def _log(session: Session, occ: Occurrence | None, lab_id: int, kind: UsageKind, actor: Any,
         seat_id: int | None = None, occupant: str = "", **details: Any) -> None:
    session.add(UsageEntry(lab_id=lab_id, occurrence_id=occ.id if occ else None,
                           seat_id=seat_id, kind=kind.value, actor_id=getattr(actor, "id", None),
                           occupant=occupant[:120], details=details))


def check_in(session: Session, occ: Occurrence, actor: Any, *, attendees: int | None = None,
             comment: str = "", now: datetime | None = None) -> None:
    """Open the lab for a booked session: the request goes in use, the usage log starts."""
    moment = now or utcnow()
    req = occ.request
    if occ.status != OccurrenceStatus.BOOKED:
        raise LabError(N_("Only a booked session can be checked in."))
    if moment < occ.starts_at - CHECK_IN_EARLY:
        raise LabError(N_("Too early: check-in opens an hour before the start (%(at)s)."),
                       at=local(occ.starts_at - CHECK_IN_EARLY).strftime("%d-%m-%Y %H:%M"))
    if moment >= occ.ends_at:
        raise LabError(N_("This session is over; it can no longer be checked in."))
    if req.state != RequestState.READY:
        raise LabError(N_("The lab is not marked ready yet; finish the preparation checklist "
                          "first."))
    if attendees is not None and (attendees < 0 or attendees > 1000):
        raise LabError(N_("The number of users must be between 0 and 1000."))
    occ.status = OccurrenceStatus.CHECKED_IN.value
    occ.checked_in_at = moment
    occ.checked_in_by = actor.id
    occ.attendees = attendees
    LAB_REQUEST.apply(session, req, "check_in", actor, comment)
    _log(session, occ, occ.lab_id, UsageKind.CHECK_IN, actor, attendees=attendees,
         request=req.number)
    audit(session, "lab.session.check_in", actor=actor, object_type="lab_occurrence",
          object_id=occ.id, details={"request": req.number, "attendees": attendees})


def check_out(session: Session, occ: Occurrence, actor: Any, *, condition_note: str = "",
              attendees: int | None = None, comment: str = "",
              now: datetime | None = None) -> None:
    """Close a checked-in session: seats are freed, the rest of the hold goes back to the
    calendar, and the request waits for its next week or is done."""
    moment = now or utcnow()
    req = occ.request
    if occ.status != OccurrenceStatus.CHECKED_IN:
        raise LabError(N_("Only a checked-in session can be checked out."))
    occ.status = OccurrenceStatus.DONE.value
    occ.checked_out_at = moment
    occ.checked_out_by = actor.id
    occ.condition_note = condition_note.strip()[:4000]
    if attendees is not None:
        occ.attendees = attendees
    for use in session.scalars(select(SeatUse).where(SeatUse.occurrence_id == occ.id,
                                                     SeatUse.ended_at.is_(None))):
        use.ended_at = moment
    shorten_hold(session, occ, moment)
    session.flush()
    upcoming = [o for o in req.occurrences if o.status == OccurrenceStatus.BOOKED]
    LAB_REQUEST.apply(session, req, "check_out" if upcoming else "finish", actor, comment)
    _log(session, occ, occ.lab_id, UsageKind.CHECK_OUT, actor, attendees=occ.attendees,
         condition=occ.condition_note, request=req.number)
    audit(session, "lab.session.check_out", actor=actor, object_type="lab_occurrence",
          object_id=occ.id, details={"request": req.number, "attendees": occ.attendees,
                                     "condition": occ.condition_note})
    notices.queue(session, notices.checked_out(session, req, occ, _lab_name(_lab(session, req))))


def shorten_hold(session: Session, occ: Occurrence, moment: datetime) -> None:
    """Give the rest of a session's time back to the calendar (early check-out, no-show)."""
    from plugins.lab.models import Hold

    hold = session.scalar(select(Hold).where(Hold.occurrence_id == occ.id))
    if hold is None:
        return
    if moment <= hold.starts_at:
        session.delete(hold)
    elif moment < hold.ends_at:
        hold.ends_at = moment
    session.flush()


def finish(session: Session, req: LabRequest, actor: Any, comment: str = "") -> None:
    """Close a request whose remaining sessions were cancelled or missed."""
    LAB_REQUEST.apply(session, req, "finish", actor, comment)


# -- cancelling ----------------------------------------------------------------------------


def cancel(session: Session, req: LabRequest, actor: Any, reason: str) -> None:
    """Cancel the whole request; every future session frees the lab."""
    before = req.state
    LAB_REQUEST.apply(session, req, "cancel", actor, reason)
    ids = []
    for occ in req.occurrences:
        if occ.status in (OccurrenceStatus.REQUESTED, OccurrenceStatus.BOOKED):
            occ.status = OccurrenceStatus.CANCELLED.value
            ids.append(occ.id)
    holds.release(session, occurrence_ids=ids)
    session.flush()
    notices.queue(session, notices.cancelled(session, req, _lab_name(_lab(session, req)),
                                             reason, actor, was=before))


def move_occurrence(session: Session, occ: Occurrence, actor: Any, *, day: date, start: time,
                    end: time, reason: str, now: datetime | None = None) -> None:
    """Move one session to another day or time (a class that moved, a holiday): the hold
    moves with it, and the database refuses the move if it lands on someone else's time."""
    from plugins.lab.models import Hold
    from plugins.lab.timeslots import at_local

    req = occ.request
    reason = reason.strip()
    if not reason:
        raise LabError(N_("Say why the session is moved."))
    if occ.status not in (OccurrenceStatus.REQUESTED, OccurrenceStatus.BOOKED):
        raise LabError(N_("Only a session that has not started can be moved."))
    if end <= start:
        raise LabError(N_("The end time must be after the start time."))
    new_start, new_end = at_local(day, start), at_local(day, end)
    if new_start <= (now or utcnow()):
        raise LabError(N_("The first session must be in the future."))
    prof = catalog.profile(session, occ.lab_id)
    if start < prof.open_from or end > prof.open_until or str(day.isoweekday()) not in \
            prof.open_days:
        raise LabError(N_("The lab is not open then."))
    hold = session.scalar(select(Hold).where(Hold.occurrence_id == occ.id))
    ignore = [hold.reference] if hold is not None else []
    clashes = slot_clashes(session, occ.lab_id, new_start, new_end, ignore)
    if clashes:
        raise SlotTaken(N_("The lab is already taken at that time: %(what)s."),
                        conflicts=tuple(clashes), what="; ".join(clashes))
    before = (occ.starts_at, occ.ends_at)
    if hold is not None:
        from sqlalchemy.exc import IntegrityError

        try:
            with session.begin_nested():
                hold.starts_at, hold.ends_at = new_start, new_end
                session.flush()
        except IntegrityError as exc:
            if not holds.is_overlap_error(exc):
                raise
            raise SlotTaken(N_("The lab was taken at that time a moment ago by another "
                               "approval; reload to see it.")) from None
    occ.starts_at, occ.ends_at = new_start, new_end
    occ.note = reason[:300]
    occ.reminded_at = None
    session.flush()
    audit(session, "lab.occurrence.move", actor=actor, object_type="lab_occurrence",
          object_id=occ.id, details={"request": req.number, "reason": reason,
                                     "from": [before[0].isoformat(), before[1].isoformat()],
                                     "to": [new_start.isoformat(), new_end.isoformat()]})
    notices.queue(session, notices.occurrence_moved(
        session, req, before[0], occ, _lab_name(_lab(session, req)), reason))


def cancel_occurrence(session: Session, occ: Occurrence, actor: Any, reason: str) -> None:
    """Cancel one week of a series (a holiday, a mid-term); the lab is free that week."""
    req = occ.request
    reason = reason.strip()
    if not reason:
        raise LabError(N_("Say why the session is cancelled."))
    is_owner = req.created_by == actor.id or req.requester_id == actor.id
    if not (is_owner or actor.role in ("staff", "head", "admin")):
        raise LabError(N_("Only the requester or BPTI staff can cancel a session."))
    if occ.status not in (OccurrenceStatus.REQUESTED, OccurrenceStatus.BOOKED):
        raise LabError(N_("Only a session that has not started can be cancelled."))
    if req.state in (RequestState.DONE, RequestState.REJECTED, RequestState.CANCELLED):
        raise LabError(N_("This request is closed."))
    occ.status = OccurrenceStatus.CANCELLED.value
    occ.note = reason[:300]
    holds.release(session, occurrence_ids=[occ.id])
    session.flush()
    audit(session, "lab.occurrence.cancel", actor=actor, object_type="lab_occurrence",
          object_id=occ.id, details={"request": req.number, "reason": reason,
                                     "starts_at": occ.starts_at.isoformat()})
    if actor.id != req.requester_id:
        notices.queue(session, notices.occurrence_cancelled(
            session, req, occ, _lab_name(_lab(session, req)), reason))


# -- jobs ----------------------------------------------------------------------------------


class _System:
    """The actor of automatic steps (a job, not a person): audited as ``system``."""

    id = None
    username = "system"
    display_name = "Ruang (otomatis)"
    role = "admin"  # the workflow lets it take the steps its jobs need
    division = None
    is_division_head = False
    is_authenticated = True
    active = True
    locale = None


SYSTEM = _System()
FORGOTTEN_AFTER = timedelta(hours=1)


def _close_if_nothing_left(session: Session, req: LabRequest) -> None:
    if req.state == RequestState.READY and not any(
            o.status == OccurrenceStatus.BOOKED for o in req.occurrences):
        LAB_REQUEST.apply(session, req, "finish", SYSTEM,
                          _("No session of this booking is left."))


def mark_no_shows(session: Session, now: datetime | None = None) -> int:
    """Booked sessions nobody checked in ``lab.no_show_minutes`` after the start become
    no-shows; the rest of their time goes back to the calendar, and a booking with no
    session left is closed."""
    moment = now or utcnow()
    grace = timedelta(minutes=int(setting(session, "lab.no_show_minutes")))
    late = session.scalars(select(Occurrence).where(
        Occurrence.status == OccurrenceStatus.BOOKED.value,
        Occurrence.starts_at <= moment - grace)).all()
    for occ in late:
        occ.status = OccurrenceStatus.NO_SHOW.value
        shorten_hold(session, occ, max(moment, occ.starts_at + grace))
        _log(session, occ, occ.lab_id, UsageKind.NO_SHOW, None, request=occ.request.number)
        audit(session, "lab.session.no_show", actor="system", object_type="lab_occurrence",
              object_id=occ.id, details={"request": occ.request.number})
    session.flush()
    for req in {occ.request for occ in late}:
        _close_if_nothing_left(session, req)
    return len(late)


def close_forgotten(session: Session, now: datetime | None = None) -> int:
    """Sessions still checked in an hour after their end were left without a check-out:
    they are checked out at their end time, noted as automatic in the usage log."""
    moment = now or utcnow()
    stale = session.scalars(select(Occurrence).where(
        Occurrence.status == OccurrenceStatus.CHECKED_IN.value,
        Occurrence.ends_at <= moment - FORGOTTEN_AFTER)).all()
    for occ in stale:
        req = occ.request
        occ.status = OccurrenceStatus.DONE.value
        occ.checked_out_at = occ.ends_at
        occ.condition_note = (occ.condition_note + "\n" if occ.condition_note else "") + _(
            "Checked out automatically: nobody checked the session out.")
        for use in session.scalars(select(SeatUse).where(SeatUse.occurrence_id == occ.id,
                                                         SeatUse.ended_at.is_(None))):
            use.ended_at = occ.ends_at
        session.flush()
        upcoming = any(o.status == OccurrenceStatus.BOOKED for o in req.occurrences)
        LAB_REQUEST.apply(session, req, "check_out" if upcoming else "finish", SYSTEM,
                          _("Checked out automatically: nobody checked the session out."))
        _log(session, occ, occ.lab_id, UsageKind.CHECK_OUT, None, request=req.number,
             automatic=True)
    return len(stale)


def expire_undecided(session: Session, now: datetime | None = None) -> int:
    """Requests nobody decided on before their first session started are closed as
    rejected, so the queue of Ka. BPTI holds only what can still happen."""
    moment = now or utcnow()
    waiting = session.scalars(select(LabRequest).where(
        LabRequest.state == RequestState.SUBMITTED.value)).all()
    expired = 0
    for req in waiting:
        asked = [o for o in req.occurrences if o.status == OccurrenceStatus.REQUESTED]
        if asked and all(o.starts_at <= moment for o in asked):
            reason = _("Expired: no decision was made before the first session.")
            LAB_REQUEST.apply(session, req, "reject", SYSTEM, reason)
            for occ in asked:
                occ.status = OccurrenceStatus.CANCELLED.value
            notices.queue(session, notices.rejected(session, req, _lab_name(_lab(session, req)),
                                                    reason))
            expired += 1
    session.flush()
    return expired


def send_reminders(session: Session, now: datetime | None = None) -> int:
    moment = now or utcnow()
    ahead = timedelta(hours=int(setting(session, "lab.reminder_hours")))
    due = session.scalars(select(Occurrence).where(
        Occurrence.status == OccurrenceStatus.BOOKED.value, Occurrence.reminded_at.is_(None),
        Occurrence.starts_at > moment, Occurrence.starts_at <= moment + ahead)).all()
    for occ in due:
        occ.reminded_at = moment
        req = occ.request
        notices.queue(session, notices.reminder(session, req, occ, _lab_name(_lab(session, req))))
    session.flush()
    return len(due)


# -- reading -------------------------------------------------------------------------------


def visible_requests(session: Session, user: Any, *, state: str | None = None,
                     lab_id: int | None = None, mine: bool = False,
                     limit: int = 200) -> Sequence[LabRequest]:
    """Requests ``user`` may see: staff, heads and approvers see all, others their own."""
    from core.accounts.access import can

    stmt = select(LabRequest).order_by(LabRequest.created_at.desc()).limit(limit)
    if mine or not can(user, "lab.requests_all"):
        stmt = stmt.where((LabRequest.requester_id == user.id)
                          | (LabRequest.created_by == user.id))
    if state:
        stmt = stmt.where(LabRequest.state == state)
    if lab_id:
        stmt = stmt.where(LabRequest.lab_id == lab_id)
    return list(session.scalars(stmt))


def may_see(user: Any, req: LabRequest) -> bool:
    from core.accounts.access import can

    return (can(user, "lab.requests_all") or req.requester_id == user.id
            or req.created_by == user.id or req.assignee_id == user.id)


def today_sessions(session: Session, lab_id: int | None = None,
                   day: date | None = None) -> list[tuple[Occurrence, LabRequest]]:
    from plugins.lab.timeslots import day_bounds

    start, end = day_bounds(day or today())
    stmt = (select(Occurrence, LabRequest).join(LabRequest)
            .where(Occurrence.starts_at < end, Occurrence.ends_at > start,
                   Occurrence.status.in_([OccurrenceStatus.BOOKED.value,
                                          OccurrenceStatus.CHECKED_IN.value,
                                          OccurrenceStatus.DONE.value,
                                          OccurrenceStatus.NO_SHOW.value]))
            .order_by(Occurrence.starts_at))
    if lab_id is not None:
        stmt = stmt.where(Occurrence.lab_id == lab_id)
    return [(o, r) for o, r in session.execute(stmt)]
