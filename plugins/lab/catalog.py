"""What the lab plugin knows about a lab beyond the core registry: its description, opening
hours, whether requesters may book it, its equipment and installed software.

Changes to the registry itself (name, grid, seats, PCs) go through ``core.rooms.service``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.rooms import service as rooms
from core.rooms.models import Device, DeviceStatus, Lab, Seat
from plugins.lab.errors import N_, LabError, describe
from plugins.lab.models import OPEN_REPAIR_STATES, Equipment, LabProfile, Repair, Software


def profile(session: Session, lab_id: int, *, create: bool = False) -> LabProfile:
    """The lab's profile; a default one (not stored) when it has none yet."""
    found = session.get(LabProfile, lab_id)
    if found is not None:
        return found
    fresh = LabProfile(lab_id=lab_id, description="", bookable=True, open_from=time(7, 0),
                       open_until=time(21, 0), open_days="123456", feed_key="")
    if create:
        session.add(fresh)
        session.flush()
    return fresh


def feed_key(session: Session, lab_id: int) -> str:
    """The secret part of the lab's iCal address, made on first use."""
    prof = profile(session, lab_id, create=True)
    if not prof.feed_key:
        prof.feed_key = secrets.token_urlsafe(18)
        session.flush()
    return prof.feed_key


def new_feed_key(session: Session, lab: Lab, actor: Any) -> str:
    """Replace the lab's iCal address; subscriptions to the old one stop working."""
    prof = profile(session, lab.id, create=True)
    prof.feed_key = secrets.token_urlsafe(18)
    session.flush()
    audit(session, "lab.feed_key", actor=actor, object_type="lab", object_id=lab.id)
    return prof.feed_key


class ProfileForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    description: str = Field(default="", max_length=4000)
    bookable: bool = False
    open_from: time
    open_until: time
    open_days: list[int] = Field(min_length=1)

    @field_validator("open_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in value):
            raise ValueError(N_("Days are 1 (Monday) to 7 (Sunday)."))
        return sorted(set(value))


def save_profile(session: Session, lab: Lab, data: dict[str, Any], actor: Any) -> LabProfile:
    try:
        form = ProfileForm.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise LabError(N_("%(field)s: %(msg)s"), field=str(err["loc"][0]),
                       msg=describe(err)) from None
    if form.open_until <= form.open_from:
        raise LabError(N_("The lab must close after it opens."))
    prof = profile(session, lab.id, create=True)
    before = {"description": prof.description, "bookable": prof.bookable,
              "open_from": str(prof.open_from), "open_until": str(prof.open_until),
              "open_days": prof.open_days}
    prof.description = form.description
    prof.bookable = form.bookable
    prof.open_from = form.open_from
    prof.open_until = form.open_until
    prof.open_days = "".join(str(d) for d in form.open_days)
    after = {"description": prof.description, "bookable": prof.bookable,
             "open_from": str(prof.open_from), "open_until": str(prof.open_until),
             "open_days": prof.open_days}
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    session.flush()
    if diff:
        audit(session, "lab.profile", actor=actor, object_type="lab", object_id=lab.id,
              details=diff)
    return prof


# -- equipment and software ----------------------------------------------------------------


class EquipmentForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    quantity: int = Field(default=1, ge=1, le=10000)
    asset_number: str = Field(default="", max_length=60)
    condition: str = Field(default="good", pattern="^(good|faulty|in_repair)$")
    notes: str = Field(default="", max_length=1000)


class SoftwareForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    version: str = Field(default="", max_length=40)
    licence: str = Field(default="", max_length=80)


def _form_error(exc: ValidationError) -> LabError:
    err = exc.errors(include_url=False)[0]
    return LabError(N_("%(field)s: %(msg)s"), field=".".join(str(p) for p in err["loc"]),
                    msg=describe(err))


def equipment(session: Session, lab_id: int) -> Sequence[Equipment]:
    return list(session.scalars(select(Equipment).where(Equipment.lab_id == lab_id)
                                .order_by(Equipment.name)))


def software(session: Session, lab_id: int) -> Sequence[Software]:
    return list(session.scalars(select(Software).where(Software.lab_id == lab_id)
                                .order_by(func.lower(Software.name))))


def add_equipment(session: Session, lab: Lab, data: dict[str, Any], actor: Any) -> Equipment:
    try:
        form = EquipmentForm.model_validate(data)
    except ValidationError as exc:
        raise _form_error(exc) from None
    item = Equipment(lab_id=lab.id, **form.model_dump())
    session.add(item)
    session.flush()
    audit(session, "lab.equipment.add", actor=actor, object_type="lab", object_id=lab.id,
          details=form.model_dump())
    return item


def update_equipment(session: Session, item: Equipment, data: dict[str, Any],
                     actor: Any) -> Equipment:
    try:
        form = EquipmentForm.model_validate(data)
    except ValidationError as exc:
        raise _form_error(exc) from None
    before = {k: getattr(item, k) for k in form.model_dump()}
    for key, value in form.model_dump().items():
        setattr(item, key, value)
    session.flush()
    diff = {k: [before[k], v] for k, v in form.model_dump().items() if before[k] != v}
    if diff:
        audit(session, "lab.equipment.update", actor=actor, object_type="lab",
              object_id=item.lab_id, details={"id": item.id, **diff})
    return item


def remove_equipment(session: Session, item: Equipment, actor: Any) -> None:
    audit(session, "lab.equipment.remove", actor=actor, object_type="lab", object_id=item.lab_id,
          details={"id": item.id, "name": item.name, "quantity": item.quantity})
    session.delete(item)
    session.flush()


def add_software(session: Session, lab: Lab, data: dict[str, Any], actor: Any) -> Software:
    try:
        form = SoftwareForm.model_validate(data)
    except ValidationError as exc:
        raise _form_error(exc) from None
    clash = session.scalar(select(Software).where(
        Software.lab_id == lab.id, func.lower(Software.name) == form.name.lower()))
    if clash is not None:
        raise LabError(N_("%(name)s is already on the software list of this lab."),
                       name=form.name)
    item = Software(lab_id=lab.id, **form.model_dump())
    session.add(item)
    session.flush()
    audit(session, "lab.software.add", actor=actor, object_type="lab", object_id=lab.id,
          details=form.model_dump())
    return item


def add_software_lines(session: Session, lab: Lab, text: str, actor: Any) -> tuple[int, list[str]]:
    """Add programs pasted one per line (``name | version``); returns (added, problems)."""
    added, problems = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _sep, version = line.partition("|")
        try:
            with session.begin_nested():
                add_software(session, lab, {"name": name, "version": version}, actor)
            added += 1
        except LabError as exc:
            problems.append(f"{number}: {exc.translated()}")
    return added, problems


def remove_software(session: Session, item: Software, actor: Any) -> None:
    audit(session, "lab.software.remove", actor=actor, object_type="lab", object_id=item.lab_id,
          details={"id": item.id, "name": item.name, "version": item.version})
    session.delete(item)
    session.flush()


def missing_software(session: Session, lab_id: int, wanted: Sequence[str]) -> list[str]:
    """The programs in ``wanted`` that are not on the lab's list (case and version ignored)."""
    have = [s.name.lower() for s in software(session, lab_id)]
    out = []
    for name in wanted:
        key = name.lower().strip()
        if not any(key == h or key.startswith(h + " ") or h.startswith(key + " ") for h in have):
            out.append(name)
    return out


# -- summaries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LabSummary:
    lab: Lab
    profile: LabProfile
    seats: int
    working: int
    not_working: int
    kiosks: int
    open_repairs: int

    @property
    def capacity(self) -> int:
        """How many people the lab can seat at a working PC."""
        return self.working


def summary(session: Session, lab: Lab) -> LabSummary:
    counts = rooms.lab_counts(session, lab.id)
    repairs = session.scalar(select(func.count()).select_from(Repair).where(
        Repair.lab_id == lab.id, Repair.state.in_([s.value for s in OPEN_REPAIR_STATES]))) or 0
    return LabSummary(lab, profile(session, lab.id), counts.get("seats", 0),
                      counts.get("working", 0), counts.get("not_working", 0),
                      counts.get("kiosks", 0), int(repairs))


def summaries(session: Session, *, bookable_only: bool = False,
              include_inactive: bool = False) -> list[LabSummary]:
    out = []
    for lab in rooms.labs(session, include_inactive=include_inactive):
        item = summary(session, lab)
        if bookable_only and not item.profile.bookable:
            continue
        out.append(item)
    return out


def device_by_asset(session: Session, asset_number: str) -> Device | None:
    return session.scalar(select(Device).where(Device.asset_number == asset_number.strip()))


def faulty_devices(session: Session, lab_id: int | None = None) -> list[tuple[Device, Seat | None]]:
    stmt = (select(Device, Seat).outerjoin(Seat, Seat.id == Device.seat_id)
            .where(Device.status != DeviceStatus.WORKING.value))
    if lab_id is not None:
        stmt = stmt.where(Seat.lab_id == lab_id)
    return [(d, s) for d, s in session.execute(stmt)]
