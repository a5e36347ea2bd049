"""The lab plugin's answers to the room hooks other plugins call through ``core.rooms``.

A CBT session, a training or a certification session that reserves a lab takes a hold on
it exactly like an approved booking does, so the same database guard keeps them apart:
a reservation is refused when the lab is booked, blocked or reserved by someone else at
that time, when it has too few working PCs (faulty ones do not count), or when it is not
in use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.contracts import CalendarItem, RoomRequest, RoomReservation, WorkflowEvent
from core.rooms import service as rooms
from core.rooms.models import Lab
from plugins.lab import holds
from plugins.lab.errors import SlotTaken, tr
from plugins.lab.models import (
    Hold,
    HoldKind,
    LabRequest,
    Occurrence,
    OccurrenceStatus,
)

RESERVATION_PREFIX = "LAB-RSV-"
SHOWN_STATUSES = (OccurrenceStatus.BOOKED.value, OccurrenceStatus.CHECKED_IN.value,
                  OccurrenceStatus.DONE.value)


def _(msgid: str, **params: Any) -> str:
    return tr(msgid, **params)


def _refuse(reason: str, conflicts: tuple[str, ...] = ()) -> RoomReservation:
    return RoomReservation(granted=False, reason=reason, conflicts=conflicts)


def reserve(session: Session, request: RoomRequest) -> RoomReservation:
    """Answer ``ruang_reserve_room``: a hold on the lab, or a refusal with its reason.

    Asking again with the same ``source`` and ``source_ref`` for the same lab moves the
    earlier reservation (a rescheduled session) instead of clashing with it.
    """
    if request.start.tzinfo is None or request.end.tzinfo is None:
        return _refuse(_("The start and end times need a time zone."))
    if request.end <= request.start:
        return _refuse(_("The reservation must end after it starts."))
    lab = session.get(Lab, request.lab_id)
    if lab is None:
        return _refuse(_("Lab %(id)s does not exist.", id=request.lab_id))
    if not lab.active:
        return _refuse(_("Lab %(code)s is not in use (inactive).", code=lab.code))
    if request.seats is not None and request.seats < 1:
        return _refuse(_("Ask for at least one seat."))
    working = len(rooms.working_seats(session, lab.id))
    needed = request.seats or 1
    if needed > working:
        counts = rooms.lab_counts(session, lab.id)
        return _refuse(_(
            "Lab %(code)s has %(working)d working PCs (%(broken)d faulty or in repair); "
            "%(needed)d seats were asked for.", code=lab.code, working=working,
            broken=counts.get("not_working", 0), needed=needed))
    earlier = list(session.scalars(select(Hold).where(
        Hold.kind == HoldKind.RESERVATION.value, Hold.source == request.source,
        Hold.source_ref == request.source_ref, Hold.lab_id == lab.id)))
    for hold in earlier:
        if hold.starts_at == request.start and hold.ends_at == request.end:
            return RoomReservation(granted=True, reference=hold.reference)
    ignore = [h.reference for h in earlier]
    clashes = [c.describe() for c in holds.conflicts(session, lab.id, request.start,
                                                     request.end, ignore)]
    from plugins.lab.requests import foreign_busy

    clashes += [c for c in foreign_busy(session, lab.id, request.start, request.end,
                                        exclude_source=request.source)]
    if clashes:
        return _refuse(_("Lab %(code)s is taken at that time: %(what)s.", code=lab.code,
                          what="; ".join(clashes)), tuple(clashes))
    try:
        # The move is one step: if the new time is lost to a racing writer, the earlier
        # reservation comes back with the savepoint.
        with session.begin_nested():
            for old in earlier:
                session.delete(old)
            session.flush()
            hold = holds.place(
                session, lab_id=lab.id, start=request.start, end=request.end,
                kind=HoldKind.RESERVATION, title=request.purpose or request.source,
                reference=holds.new_reference(RESERVATION_PREFIX.rstrip("-")),
                source=request.source[:40], source_ref=request.source_ref[:120],
                seats=request.seats, created_by=request.requested_by)
    except SlotTaken as exc:
        return _refuse(exc.translated(), exc.conflicts)
    from core.audit.service import record as audit

    audit(session, "lab.reservation.grant", object_type="lab", object_id=lab.id,
          details={"reference": hold.reference, "source": request.source,
                   "source_ref": request.source_ref, "start": request.start.isoformat(),
                   "end": request.end.isoformat(), "seats": request.seats})
    return RoomReservation(granted=True, reference=hold.reference)


def release(session: Session, reference: str) -> None:
    """Answer ``ruang_release_room``: drop a reservation this plugin granted."""
    hold = session.scalar(select(Hold).where(Hold.reference == reference,
                                             Hold.kind == HoldKind.RESERVATION.value))
    if hold is None:
        return
    from core.audit.service import record as audit

    audit(session, "lab.reservation.release", object_type="lab", object_id=hold.lab_id,
          details={"reference": reference, "source": hold.source,
                   "source_ref": hold.source_ref})
    session.delete(hold)
    session.flush()


def busy(session: Session, lab_id: int, start: datetime, end: datetime) -> list[CalendarItem]:
    """Answer ``ruang_room_busy``: every hold of the lab in the span."""
    return [_hold_item(h) for h in holds.holds_between(session, start, end, lab_id)]


def _hold_item(hold: Hold) -> CalendarItem:
    source = "lab" if hold.kind != HoldKind.RESERVATION else hold.source
    title = hold.title or hold.reference
    if hold.kind == HoldKind.BLOCK:
        title = _("Closed: %(why)s", why=hold.title)
    return CalendarItem(uid=f"lab-hold-{hold.id}", title=title, start=hold.starts_at,
                        end=hold.ends_at, source=source, lab_id=hold.lab_id)


def calendar_items(session: Session, start: datetime, end: datetime, user: Any,
                   detailed: bool | None = None) -> list[CalendarItem]:
    """Answer ``ruang_calendar_items``: booked sessions and closures. Another plugin's
    reservations are that plugin's to show. Guests see "Lab booked", not the purpose."""
    if detailed is None:
        detailed = user is not None and can(user, "lab.view")
    stmt = (select(Occurrence, LabRequest).join(LabRequest)
            .where(Occurrence.starts_at < end, Occurrence.ends_at > start,
                   Occurrence.status.in_(SHOWN_STATUSES)))
    items = []
    for occ, req in session.execute(stmt):
        title = f"{req.purpose} ({req.requester_unit or req.requester_name})" if detailed \
            else _("Lab booked")
        items.append(CalendarItem(uid=f"lab-occ-{occ.id}", title=title, start=occ.starts_at,
                                  end=occ.ends_at, source="lab", lab_id=occ.lab_id,
                                  url=f"/lab/requests/{req.id}" if detailed else ""))
    for hold in session.scalars(select(Hold).where(
            Hold.kind == HoldKind.BLOCK.value, Hold.starts_at < end, Hold.ends_at > start)):
        items.append(_hold_item(hold))
    return items


CLOSING_STATES = frozenset({"cancelled", "rejected", "withdrawn", "closed"})


def on_transition(session: Session, event: WorkflowEvent) -> None:
    """Free the reservations of another plugin's object when its workflow cancels it.

    A reservation belongs to an object when its ``source_ref`` is ``<object_type>:<id>`` or
    ``<workflow>:<id>`` (the convention ``RoomRequest.source_ref`` follows).
    """
    if event.workflow.startswith("lab_") or event.to_state not in CLOSING_STATES:
        return
    refs = (f"{event.object_type}:{event.object_id}", f"{event.workflow}:{event.object_id}")
    found = list(session.scalars(select(Hold).where(Hold.kind == HoldKind.RESERVATION.value,
                                                    Hold.source_ref.in_(refs))))
    for hold in found:
        release(session, hold.reference)


def reserved_by_others(session: Session, start: datetime, end: datetime,
                       lab_id: int | None = None) -> list[Hold]:
    return [h for h in holds.holds_between(session, start, end, lab_id)
            if h.kind == HoldKind.RESERVATION]

