"""Programmes (the proposal and its event), their fields with quotas, and their sessions.

Forms are validated with pydantic; a refusal names the field and changes nothing. The
proposal letter gets its number from the core records service when it is first submitted
to WR II; every change is audited; sessions in a lab reserve it through ``core.rooms``
(the lab plugin answers when it is enabled).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.contracts import RoomRequest
from core.records.service import issue as issue_number
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from core.workflow.panel import TransitionForm
from plugins.certification import notices, registrations
from plugins.certification.clock import aware
from plugins.certification.errors import N_, CertError, form_error
from plugins.certification.flows import EDITABLE_STATES, PROGRAMME
from plugins.certification.models import (
    ACTIVE,
    Audience,
    CertCost,
    CertField,
    CertProgramme,
    CertRegistration,
    CertSession,
    CertVendor,
    ProgrammeState,
    RegStatus,
    SessionKind,
)

LETTER_CODE = "CERT-SP"
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")


# -- programme -------------------------------------------------------------------------------


class ProgrammeForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=20_000)
    vendor_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    cancel_until: datetime | None = None
    offer_hours: int = Field(default=24, ge=1, le=336)
    one_field_only: bool = False
    min_attendance: int = Field(default=75, ge=0, le=100)
    validity_months: int | None = Field(default=None, ge=1, le=240)
    signer_name: str = Field(default="", max_length=200)
    signer_title: str = Field(default="Kepala BPTI", max_length=200)

    @field_validator("vendor_id", "starts_on", "ends_on", "registration_opens_at",
                     "registration_closes_at", "cancel_until", "validity_months", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("registration_opens_at", "registration_closes_at", "cancel_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return aware(value) if value is not None else None


PROGRAMME_LABELS = {
    "title": "Judul", "description": "Deskripsi", "starts_on": "Tanggal mulai",
    "ends_on": "Tanggal selesai", "registration_opens_at": "Pendaftaran dibuka",
    "registration_closes_at": "Pendaftaran ditutup", "cancel_until": "Batas pembatalan",
    "offer_hours": "Batas waktu menerima tawaran (jam)", "min_attendance": "Kehadiran minimal (%)",
    "validity_months": "Masa berlaku (bulan)",
}


def _programme_form(data: Mapping[str, Any]) -> ProgrammeForm:
    raw = dict(data)
    raw["one_field_only"] = str(raw.get("one_field_only", "")).lower() in ("1", "on", "true",
                                                                          "yes")
    try:
        form = ProgrammeForm.model_validate(raw)
    except ValidationError as exc:
        raise form_error(exc, PROGRAMME_LABELS) from None
    if form.starts_on and form.ends_on and form.ends_on < form.starts_on:
        raise CertError(N_("The programme must end on or after the day it starts."))
    if (form.registration_opens_at and form.registration_closes_at
            and form.registration_closes_at <= form.registration_opens_at):
        raise CertError(N_("Registration must close after it opens."))
    return form


def _check_vendor(session: Session, vendor_id: int | None) -> None:
    if vendor_id is not None and session.get(CertVendor, vendor_id) is None:
        raise CertError(N_("No vendor with id %(id)s."), id=vendor_id)


def create(session: Session, data: Mapping[str, Any], *, actor: Any) -> CertProgramme:
    form = _programme_form(data)
    _check_vendor(session, form.vendor_id)
    prog = CertProgramme(**form.model_dump(), created_by=getattr(actor, "id", None))
    PROGRAMME.start(session, prog, actor)
    audit(session, "certification.programme.create", actor=actor, object_type="cert_programme",
          object_id=prog.id, details={"title": prog.title})
    return prog


def update(session: Session, prog: CertProgramme, data: Mapping[str, Any], *, actor: Any
           ) -> CertProgramme:
    if prog.state not in EDITABLE_STATES:
        raise CertError(N_("A programme that is %(state)s can no longer be edited."),
                        kind="not_editable", http=409, state=prog.state)
    form = _programme_form(data)
    _check_vendor(session, form.vendor_id)
    changes: dict[str, list[Any]] = {}
    for key, value in form.model_dump().items():
        old = getattr(prog, key)
        if old != value:
            changes[key] = [_plain(old), _plain(value)]
            setattr(prog, key, value)
    session.flush()
    if changes:
        audit(session, "certification.programme.update", actor=actor,
              object_type="cert_programme", object_id=prog.id, details=changes)
    return prog


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def act(session: Session, prog: CertProgramme, form: Mapping[str, Any], *, actor: Any) -> str:
    """Take a workflow action from the panel's form, with its side effects; the action."""
    try:
        data = TransitionForm.model_validate({k: form.get(k) for k in ("action", "comment")
                                              if form.get(k) is not None})
    except ValidationError:
        raise WorkflowError("bad workflow form", "invalid") from None
    event = PROGRAMME.apply(session, prog, data.action, actor, data.comment)
    if event.action == "submit" and not prog.letter_number:
        record = issue_number(session, LETTER_CODE, ref_type="cert_programme",
                              ref_id=prog.id, actor=actor)
        prog.letter_number = record.number
        session.flush()
    if event.action == "cancel":
        _cancel_everything(session, prog, actor, data.comment)
    notices.proposal_step(session, prog, event)
    return event.action


def _cancel_everything(session: Session, prog: CertProgramme, actor: Any, reason: str) -> None:
    for field in prog.fields:
        for reg in registrations.roster(session, field.id, ACTIVE):
            session.execute(
                sa_update(CertRegistration)
                .where(CertRegistration.id == reg.id)
                .values(status=RegStatus.CANCELLED.value, seat_no=None, offer_expires_at=None,
                        ended_by=getattr(actor, "id", None), end_reason=reason))
            session.refresh(reg)
            notices.ended(session, reg, reason)
        field.seats_held = 0
        for s in field.sessions:
            if s.reservation_ref:
                rooms.release(session, s.reservation_ref)
                s.reservation_ref = ""
    session.flush()


# -- costs -----------------------------------------------------------------------------------


class CostForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    item: str = Field(min_length=2, max_length=200)
    amount: int = Field(ge=0, le=100_000_000_000)
    funded_by: str = Field(default="university", pattern=r"^(university|participants|vendor)$")


def add_cost(session: Session, prog: CertProgramme, data: Mapping[str, Any], *, actor: Any
             ) -> CertCost:
    _editable_proposal(prog)
    try:
        form = CostForm.model_validate(dict(data))
    except ValidationError as exc:
        raise form_error(exc, {"item": "Uraian", "amount": "Jumlah (Rp)"}) from None
    line = CertCost(programme_id=prog.id, **form.model_dump())
    session.add(line)
    session.flush()
    session.refresh(prog)
    audit(session, "certification.cost.add", actor=actor, object_type="cert_programme",
          object_id=prog.id, details=form.model_dump())
    return line


def remove_cost(session: Session, prog: CertProgramme, cost_id: int, *, actor: Any) -> None:
    _editable_proposal(prog)
    line = session.get(CertCost, cost_id)
    if line is None or line.programme_id != prog.id:
        raise CertError(N_("No such cost line."), kind="not_found", http=404)
    session.delete(line)
    session.flush()
    session.refresh(prog)
    audit(session, "certification.cost.remove", actor=actor, object_type="cert_programme",
          object_id=prog.id, details={"item": line.item, "amount": line.amount})


def _editable_proposal(prog: CertProgramme) -> None:
    """The budget is what WR II approves: it changes only before approval."""
    if prog.state not in (ProgrammeState.DRAFT, ProgrammeState.RETURNED):
        raise CertError(N_("The budget can be changed only while the proposal is a draft or "
                        "returned by WR II."), kind="not_editable", http=409)


def total_cost(prog: CertProgramme) -> int:
    return sum(c.amount for c in prog.costs)


# -- fields ----------------------------------------------------------------------------------


class FieldForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=10_000)
    quota: int = Field(ge=0, le=100_000)
    fee: int = Field(default=0, ge=0, le=1_000_000_000)
    audience: Audience = Audience.ALL
    study_programmes: list[str] = Field(default_factory=list, max_length=200)
    exam_ref: str = Field(default="", max_length=120)
    pass_mark: float | None = Field(default=None, ge=0, le=100)
    sort: int = Field(default=0, ge=0, le=1000)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.upper()
        if not CODE_RE.match(value):
            raise ValueError("use capital letters, digits, '-' or '_' (for example NET)")
        return value

    @field_validator("study_programmes", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in re.split(r"[\n;]", value) if s.strip()]
        return value

    @field_validator("pass_mark", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value in ("", None) else value


FIELD_LABELS = {"code": "Kode", "name": "Nama bidang", "quota": "Kuota", "fee": "Biaya (Rp)",
                "audience": "Peserta", "pass_mark": "Nilai lulus", "exam_ref": "Ujian CBT"}


def _field_form(data: Mapping[str, Any]) -> FieldForm:
    try:
        return FieldForm.model_validate(dict(data))
    except ValidationError as exc:
        raise form_error(exc, FIELD_LABELS) from None


def add_field(session: Session, prog: CertProgramme, data: Mapping[str, Any], *, actor: Any
              ) -> CertField:
    if prog.state not in EDITABLE_STATES:
        raise CertError(N_("Fields can no longer be added to this programme."),
                        kind="not_editable", http=409)
    form = _field_form(data)
    if session.scalar(select(CertField.id).where(CertField.programme_id == prog.id,
                                                 CertField.code == form.code)):
        raise CertError(N_("This programme already has a field with code %(code)s."),
                        kind="duplicate", http=409, code=form.code)
    field = CertField(programme_id=prog.id, seats_held=0,
                      **form.model_dump(mode="json"))
    session.add(field)
    session.flush()
    session.refresh(prog)
    audit(session, "certification.field.add", actor=actor, object_type="cert_field",
          object_id=field.id, details={"programme": prog.id, **form.model_dump(mode="json")})
    return field


def update_field(session: Session, field: CertField, data: Mapping[str, Any], *, actor: Any
                 ) -> CertField:
    if field.programme.state not in EDITABLE_STATES:
        raise CertError(N_("This programme can no longer be edited."), kind="not_editable",
                        http=409)
    form = _field_form(data)
    if form.code != field.code and session.scalar(select(CertField.id).where(
            CertField.programme_id == field.programme_id, CertField.code == form.code)):
        raise CertError(N_("This programme already has a field with code %(code)s."),
                        kind="duplicate", http=409, code=form.code)
    values = form.model_dump(mode="json")
    quota = values.pop("quota")
    changes = {}
    for key, value in values.items():
        if getattr(field, key) != value:
            changes[key] = [getattr(field, key), value]
            setattr(field, key, value)
    if (field.programme.state != ProgrammeState.DRAFT and "fee" in changes
            and session.scalar(select(func.count()).select_from(CertRegistration).where(
                CertRegistration.field_id == field.id)) ):
        raise CertError(N_("People have registered for %(field)s already; its fee cannot change."),
                        kind="fee_locked", http=409, field=field.name)
    session.flush()
    if changes:
        audit(session, "certification.field.update", actor=actor, object_type="cert_field",
              object_id=field.id, details=changes)
    registrations.change_quota(session, field, quota, actor=actor)
    return field


def set_open(session: Session, field: CertField, is_open: bool, *, actor: Any) -> None:
    if field.open == is_open:
        return
    field.open = is_open
    session.flush()
    audit(session, "certification.field.open" if is_open else "certification.field.close",
          actor=actor, object_type="cert_field", object_id=field.id)


def remove_field(session: Session, field: CertField, *, actor: Any) -> None:
    if session.scalar(select(func.count()).select_from(CertRegistration)
                      .where(CertRegistration.field_id == field.id)):
        raise CertError(N_("%(field)s has registrations; close it instead of removing it."),
                        kind="has_registrations", http=409, field=field.name)
    for s in field.sessions:
        if s.reservation_ref:
            rooms.release(session, s.reservation_ref)
    prog = field.programme
    audit(session, "certification.field.remove", actor=actor, object_type="cert_field",
          object_id=field.id, details={"code": field.code, "programme": prog.id})
    session.delete(field)
    session.flush()
    session.refresh(prog)


# -- sessions --------------------------------------------------------------------------------


class SessionForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=2, max_length=200)
    kind: SessionKind = SessionKind.TRAINING
    starts_at: datetime
    ends_at: datetime
    lab_id: int | None = None
    location: str = Field(default="", max_length=200)
    trainer: str = Field(default="", max_length=200)

    @field_validator("lab_id", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return aware(value)


SESSION_LABELS = {"title": "Judul", "starts_at": "Mulai", "ends_at": "Selesai", "lab_id": "Lab"}


def add_session(session: Session, field: CertField, data: Mapping[str, Any], *, actor: Any
                ) -> CertSession:
    """Schedule a session; a lab is reserved through the core, or the session is refused."""
    if field.programme.state not in EDITABLE_STATES:
        raise CertError(N_("This programme can no longer be scheduled."), kind="not_editable",
                        http=409)
    try:
        form = SessionForm.model_validate(dict(data))
    except ValidationError as exc:
        raise form_error(exc, SESSION_LABELS) from None
    if form.ends_at <= form.starts_at:
        raise CertError(N_("A session must end after it starts."))
    if form.lab_id is None and not form.location:
        raise CertError(N_("Choose a lab or write where the session takes place."))
    row = CertSession(field_id=field.id, created_by=getattr(actor, "id", None),
                      **form.model_dump())
    session.add(row)
    session.flush()
    if form.lab_id is not None:
        answer = rooms.reserve(session, RoomRequest(
            lab_id=form.lab_id, start=form.starts_at, end=form.ends_at,
            purpose=f"Sertifikasi: {field.programme.title} - {field.name} ({form.title})",
            source="certification", source_ref=f"session-{row.id}",
            requested_by=getattr(actor, "id", None), seats=field.quota or None))
        if not answer.granted:
            raise CertError(N_("The lab cannot be reserved: %(reason)s"), kind="room_refused",
                            http=409, reason=answer.reason)
        row.reservation_ref = answer.reference
        lab = rooms.get_lab(session, form.lab_id)
        if lab is not None and not row.location:
            row.location = lab.name
    session.flush()
    session.refresh(field)
    audit(session, "certification.session.add", actor=actor, object_type="cert_session",
          object_id=row.id, details={"field": field.id, "title": row.title,
                                     "start": row.starts_at.isoformat(),
                                     "end": row.ends_at.isoformat(), "lab": row.lab_id,
                                     "reservation": row.reservation_ref})
    return row


def remove_session(session: Session, row: CertSession, *, actor: Any) -> None:
    field = row.field
    if row.reservation_ref:
        rooms.release(session, row.reservation_ref)
    audit(session, "certification.session.remove", actor=actor, object_type="cert_session",
          object_id=row.id, details={"field": field.id, "title": row.title,
                                     "reservation": row.reservation_ref})
    session.delete(row)
    session.flush()
    session.refresh(field)


# -- reading ---------------------------------------------------------------------------------


def visible(session: Session, states: tuple[str, ...] | None = None) -> list[CertProgramme]:
    stmt = select(CertProgramme).order_by(CertProgramme.starts_on.desc().nulls_last(),
                                          CertProgramme.id.desc())
    if states:
        stmt = stmt.where(CertProgramme.state.in_(states))
    return list(session.scalars(stmt))


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(CertProgramme.state, func.count())
                           .group_by(CertProgramme.state)).all()
    return {state: int(n) for state, n in rows}
