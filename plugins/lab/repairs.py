"""Faulty PCs and their repair by Biro Aset, tracked to done.

A PC can be reported from its lab page, from its seat (the QR sticker on the desk, or the
kiosk browser of that PC), at check-out, or from a helpdesk ticket (which marks the device
faulty through ``core.rooms.service``; :func:`reconcile` then opens the repair). Marking a
PC faulty goes through the core, so the seat at once drops out of ``working_seats`` and is
no longer offered to CBT sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from core.records import service as records
from core.rooms import service as rooms
from core.rooms.models import Device, DeviceStatus, Lab, Seat
from plugins.lab import notices
from plugins.lab.errors import N_, LabError
from plugins.lab.flows import REPAIR
from plugins.lab.models import (
    OPEN_REPAIR_STATES,
    Repair,
    RepairState,
    SeatUse,
    UsageEntry,
    UsageKind,
)
from plugins.lab.options import setting

RECORD_CODE = "LAB-REP"
SOURCES = ("lab_page", "seat", "kiosk", "checkout", "helpdesk", "registry", "import")


class FaultForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    problem: str = Field(min_length=3, max_length=2000)
    replace: bool = False
    send_now: bool = True


def open_repair(session: Session, device_id: int) -> Repair | None:
    return session.scalars(select(Repair).where(
        Repair.device_id == device_id,
        Repair.state.in_([s.value for s in OPEN_REPAIR_STATES])).order_by(Repair.id)).first()


def _place(session: Session, device: Device) -> tuple[Lab | None, Seat | None]:
    seat = session.get(Seat, device.seat_id) if device.seat_id is not None else None
    lab = session.get(Lab, seat.lab_id) if seat is not None else None
    return lab, seat


def report_fault(session: Session, device: Device, actor: Any, problem: str, *,
                 source: str = "lab_page", source_ref: str = "", replace: bool = False,
                 send_now: bool = False) -> Repair:
    """Mark ``device`` faulty (through the core) and open its repair request.

    A PC that already has an open repair gets the new report added to it instead of a second
    request. ``send_now`` sends it to Biro Aset at once.
    """
    problem = problem.strip()
    if len(problem) < 3:
        raise LabError(N_("Describe the problem in a few words."))
    if source not in SOURCES:
        raise LabError(N_("Unknown report source %(source)s."), source=source)
    if device.status == DeviceStatus.WORKING:
        rooms.set_device_status(session, device, DeviceStatus.FAULTY.value, actor=actor,
                                reason=problem[:500])
    lab, seat = _place(session, device)
    existing = open_repair(session, device.id)
    if existing is not None:
        existing.problem = f"{existing.problem}\n+ {problem}"[:4000]
        existing.replace = existing.replace or replace
        session.flush()
        audit(session, "lab.repair.report_again", actor=actor, object_type="lab_repair",
              object_id=existing.id, details={"problem": problem, "source": source})
        _log_fault(session, lab, seat, actor, problem, existing)
        return existing
    repair = Repair(
        number="-", state=RepairState.REPORTED.value, device_id=device.id,
        lab_id=lab.id if lab else None, seat_label=seat.label if seat else "",
        asset_number=device.asset_number, hostname=device.hostname, problem=problem,
        source=source, source_ref=source_ref[:120], replace=replace,
        reported_by=getattr(actor, "id", None),
    )
    session.add(repair)
    session.flush()
    repair.number = records.issue(session, RECORD_CODE, ref_type="lab_repair",
                                  ref_id=repair.id, actor=actor).number
    actor_for_start = actor if getattr(actor, "is_authenticated", False) else None
    if actor_for_start is not None:
        REPAIR.start(session, repair, actor_for_start, comment=problem[:200])
    audit(session, "lab.repair.report", actor=actor, object_type="lab_repair",
          object_id=repair.id, details={"number": repair.number, "asset": device.asset_number,
                                        "source": source, "problem": problem})
    _log_fault(session, lab, seat, actor, problem, repair)
    if send_now and actor_for_start is not None and actor.role in ("staff", "admin"):
        send(session, repair, actor)
    return repair


def _log_fault(session: Session, lab: Lab | None, seat: Seat | None, actor: Any, problem: str,
               repair: Repair) -> None:
    if lab is None:
        return
    occupant = ""
    if seat is not None:
        use = session.scalars(select(SeatUse).where(SeatUse.seat_id == seat.id,
                                                    SeatUse.ended_at.is_(None))).first()
        occupant = use.occupant if use else ""
    session.add(UsageEntry(lab_id=lab.id, seat_id=seat.id if seat else None,
                           kind=UsageKind.FAULT.value, actor_id=getattr(actor, "id", None),
                           occupant=occupant,
                           details={"problem": problem[:300], "repair": repair.number}))
    session.flush()


def send(session: Session, repair: Repair, actor: Any, comment: str = "") -> None:
    """Send the request to Biro Aset (by e-mail, with the asset number)."""
    email = str(setting(session, "lab.asset_office_email") or "").strip()
    if not email:
        raise LabError(N_("Set the e-mail address of Biro Aset (lab.asset_office_email) "
                          "first."))
    REPAIR.apply(session, repair, "send", actor, comment)
    repair.sent_at = utcnow()
    lab = session.get(Lab, repair.lab_id) if repair.lab_id else None
    notices.queue(session, notices.repair_to_asset_office(
        session, repair, lab.code if lab else "-", email, actor))


def pick_up(session: Session, repair: Repair, actor: Any, comment: str = "",
            asset_office_ref: str = "") -> None:
    """Biro Aset took the PC: its status becomes ``in_repair``."""
    REPAIR.apply(session, repair, "pick_up", actor, comment)
    if asset_office_ref:
        repair.asset_office_ref = asset_office_ref.strip()[:100]
    device = session.get(Device, repair.device_id)
    if device is not None:
        rooms.set_device_status(session, device, DeviceStatus.IN_REPAIR.value, actor=actor,
                                reason=f"{repair.number} Biro Aset")


class CompleteForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    resolution: str = Field(min_length=3, max_length=2000)
    new_asset_number: str = Field(default="", max_length=60)
    new_hostname: str = Field(default="", max_length=100)
    asset_office_ref: str = Field(default="", max_length=100)


def complete(session: Session, repair: Repair, actor: Any, form: CompleteForm) -> None:
    """The PC is back (repaired, or replaced with a new asset number): working again."""
    device = session.get(Device, repair.device_id)
    REPAIR.apply(session, repair, "complete", actor, form.resolution)
    repair.resolution = form.resolution
    repair.done_at = utcnow()
    if form.asset_office_ref:
        repair.asset_office_ref = form.asset_office_ref
    if device is not None:
        if form.new_asset_number and form.new_asset_number != device.asset_number:
            seat = session.get(Seat, device.seat_id) if device.seat_id else None
            if seat is None:
                raise LabError(N_("The PC has no seat; put it at a seat before replacing it."))
            try:
                rooms.save_device(session, seat, asset_number=form.new_asset_number,
                                  hostname=form.new_hostname or device.hostname,
                                  notes=device.notes, actor=actor)
            except rooms.RoomError as exc:
                raise LabError(N_("%(msg)s"), msg=str(exc)) from None
        rooms.set_device_status(session, device, DeviceStatus.WORKING.value, actor=actor,
                                reason=f"{repair.number}: {form.resolution}"[:500])
    session.flush()
    lab = session.get(Lab, repair.lab_id) if repair.lab_id else None
    notices.queue(session, notices.repair_done(session, repair, lab.code if lab else "-"))


def cancel(session: Session, repair: Repair, actor: Any, reason: str) -> None:
    """A false alarm: the PC works after all."""
    REPAIR.apply(session, repair, "cancel", actor, reason)
    device = session.get(Device, repair.device_id)
    if device is not None and device.status != DeviceStatus.WORKING:
        rooms.set_device_status(session, device, DeviceStatus.WORKING.value, actor=actor,
                                reason=f"{repair.number}: {reason}"[:500])


def reconcile(session: Session, actor: Any = "system") -> list[Repair]:
    """Open a repair for every PC marked faulty elsewhere (a helpdesk ticket, the CLI, the
    core's pages) that has none yet; close the bookkeeping of PCs marked working again."""
    opened = []
    stmt = select(Device).where(Device.status != DeviceStatus.WORKING.value)
    for device in session.scalars(stmt).all():
        if open_repair(session, device.id) is not None:
            continue
        reason = _last_reason(session, device) or "Ditandai rusak di registri"
        repair = report_fault(session, device, actor, reason, source="registry",
                              source_ref=f"device:{device.id}")
        opened.append(repair)
    return opened


def _last_reason(session: Session, device: Device) -> str:
    from core.audit.models import AuditEntry

    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "device.status", AuditEntry.object_type == "device",
        AuditEntry.object_id == str(device.id)).order_by(AuditEntry.id.desc())).first()
    if entry is None:
        return ""
    reason = str((entry.details or {}).get("reason", "")).strip()
    return reason if len(reason) >= 3 else ""


def repairs(session: Session, *, state: str | None = None, lab_id: int | None = None,
            open_only: bool = False, limit: int = 300) -> Sequence[Repair]:
    stmt = select(Repair).order_by(Repair.reported_at.desc()).limit(limit)
    if state:
        stmt = stmt.where(Repair.state == state)
    if open_only:
        stmt = stmt.where(Repair.state.in_([s.value for s in OPEN_REPAIR_STATES]))
    if lab_id is not None:
        stmt = stmt.where(Repair.lab_id == lab_id)
    return list(session.scalars(stmt))


def age(repair: Repair, now: datetime | None = None) -> float:
    """Days since the report, to the end of the repair or now."""
    end = repair.done_at or now or utcnow()
    return (end - repair.reported_at).total_seconds() / 86400
