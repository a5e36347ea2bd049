"""Registration: the window, eligibility, the quota, the waiting list, offers, payments.

Every function runs inside the caller's ``db.transaction()`` and audits its change there.
A refusal raises :class:`CertError` before anything is written, so a refused registration
changes nothing. The seat itself is taken by :mod:`plugins.certification.seats` in the
database; a duplicate that slips past the check here (two requests at the same moment)
is stopped by the partial unique index and surfaces as ``IntegrityError`` on commit,
which :func:`register_now` turns into the same "already registered" refusal.

Freed seats (a cancellation, a declined or expired offer, a larger quota) are offered to
the waiting list in order of registration; an offer holds the seat for the programme's
``offer_hours`` and a background job hands expired offers on to the next in line.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import Database
from plugins.certification import notices, seats
from plugins.certification.clock import now
from plugins.certification.errors import N_, CertError, form_error
from plugins.certification.flows import SEATING_STATES
from plugins.certification.models import (
    ACTIVE,
    HOLDING,
    Audience,
    CertField,
    CertParticipant,
    CertPayment,
    CertProgramme,
    CertRegistration,
    PaymentStatus,
    ProgrammeState,
    RegStatus,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    return "R-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


# -- reading ---------------------------------------------------------------------------------


def by_code(session: Session, code: str) -> CertRegistration | None:
    return session.scalar(select(CertRegistration)
                          .where(CertRegistration.code == code.strip().upper()))


def active_of(session: Session, participant_id: int, field_id: int
              ) -> CertRegistration | None:
    return session.scalar(select(CertRegistration).where(
        CertRegistration.participant_id == participant_id,
        CertRegistration.field_id == field_id, CertRegistration.status.in_(ACTIVE)))


def of_participant(session: Session, participant_id: int) -> list[CertRegistration]:
    return list(session.scalars(select(CertRegistration)
                                .where(CertRegistration.participant_id == participant_id)
                                .order_by(CertRegistration.id.desc())))


def position(session: Session, reg: CertRegistration) -> int | None:
    """1 for the first in line; ``None`` when ``reg`` is not waiting."""
    if reg.status != RegStatus.WAITLISTED:
        return None
    ahead = session.scalar(select(func.count()).select_from(CertRegistration).where(
        CertRegistration.field_id == reg.field_id,
        CertRegistration.status == RegStatus.WAITLISTED.value, CertRegistration.id < reg.id))
    return int(ahead or 0) + 1


def waiting(session: Session, field_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(CertRegistration).where(
        CertRegistration.field_id == field_id,
        CertRegistration.status == RegStatus.WAITLISTED.value)) or 0)


def roster(session: Session, field_id: int, statuses: Sequence[str] | None = None
           ) -> list[CertRegistration]:
    stmt = select(CertRegistration).where(CertRegistration.field_id == field_id)
    if statuses:
        stmt = stmt.where(CertRegistration.status.in_(list(statuses)))
    return list(session.scalars(stmt.order_by(CertRegistration.seat_no.is_(None),
                                              CertRegistration.seat_no, CertRegistration.id)))


# -- the rules -------------------------------------------------------------------------------


def window_problem(prog: CertProgramme, at: datetime) -> CertError | None:
    if prog.state != ProgrammeState.PUBLISHED:
        return CertError(N_("Registration for %(title)s is not open."), kind="not_open",
                         http=409, title=prog.title)
    if prog.registration_opens_at is None or at < prog.registration_opens_at:
        return CertError(N_("Registration for %(title)s has not opened yet."), kind="not_yet_open",
                         http=409, title=prog.title)
    if prog.registration_closes_at is None or at >= prog.registration_closes_at:
        return CertError(N_("Registration for %(title)s has closed."), kind="window_closed",
                         http=409, title=prog.title)
    return None


def eligibility_problem(session: Session, field: CertField, p: CertParticipant
                        ) -> CertError | None:
    """Why ``p`` may not take ``field``, or ``None``."""
    if field.audience == Audience.INTERNAL and not p.internal:
        return CertError(N_("%(field)s is open to members of the university only: sign in with "
                         "your account."), kind="not_eligible", http=403, field=field.name)
    if field.audience == Audience.EXTERNAL and p.internal:
        return CertError(N_("%(field)s is open to participants from outside the university only."),
                         kind="not_eligible", http=403, field=field.name)
    allowed = [s.strip().lower() for s in (field.study_programmes or []) if s.strip()]
    if allowed and p.internal and p.study_programme.strip().lower() not in allowed:
        return CertError(N_("%(field)s is open to these study programmes only: %(list)s."),
                         kind="not_eligible", http=403, field=field.name,
                         list=", ".join(field.study_programmes))
    if not p.internal and p.email_verified_at is None:
        return CertError(N_("Confirm your e-mail address first: open the link we sent you."),
                         kind="unverified", http=403)
    return None


@dataclass(frozen=True)
class Outcome:
    """What a registration ended as, for a page or a JSON answer."""

    code: str
    status: str
    seat_no: int | None
    position: int | None


def register(session: Session, field_id: int, p: CertParticipant, *, actor: Any = None,
             source: str = "portal", at: datetime | None = None) -> CertRegistration:
    """Register ``p`` for field ``field_id``: a seat if one is free, else the waiting list.

    ``source="staff"`` (a walk-in entered by staff) skips the registration window and the
    closed flag, never the quota, eligibility or the one-registration rule.
    """
    at = at or now()
    field = session.get(CertField, field_id)
    if field is None:
        raise CertError(N_("No such certification field."), kind="not_found", http=404)
    prog = field.programme
    if source == "portal":
        problem = window_problem(prog, at)
        if problem is not None:
            raise problem
        if not field.open:
            raise CertError(N_("Registration for %(field)s is closed."), kind="field_closed",
                            http=409, field=field.name)
    elif prog.state not in SEATING_STATES and prog.state != ProgrammeState.APPROVED:
        raise CertError(N_("%(title)s takes no registrations in its present state."),
                        kind="not_open", http=409, title=prog.title)
    problem = eligibility_problem(session, field, p)
    if problem is not None:
        raise problem
    existing = active_of(session, p.id, field.id)
    if existing is not None:
        raise CertError(N_("You are already registered for %(field)s (registration %(code)s)."),
                        kind="duplicate", http=409, field=field.name, code=existing.code)
    if prog.one_field_only:
        other = session.scalar(select(CertRegistration).join(CertField).where(
            CertRegistration.participant_id == p.id, CertField.programme_id == prog.id,
            CertRegistration.status.in_(ACTIVE)))
        if other is not None:
            raise CertError(N_("%(title)s allows one field per participant; you are registered "
                            "for %(field)s."), kind="one_field_only", http=409,
                            title=prog.title, field=other.field.name)
    # Nobody jumps the queue: while people wait, a newcomer waits behind them.
    seat = seats.claim(session, field.id) if waiting(session, field.id) == 0 else None
    reg = CertRegistration(
        code=new_code(), field_id=field.id, participant_id=p.id,
        status=RegStatus.CONFIRMED.value if seat else RegStatus.WAITLISTED.value,
        seat_no=seat, created_at=at, confirmed_at=at if seat else None, fee=field.fee,
        payment_status=(PaymentStatus.UNPAID if field.fee else PaymentStatus.NONE).value,
        source=source)
    session.add(reg)
    session.flush()
    audit(session, "certification.register", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "field": field.id, "participant": p.id,
                                     "status": reg.status, "seat": seat, "source": source})
    notices.registered(session, reg, position(session, reg))
    return reg


def register_now(db: Database, field_id: int, participant_id: int, *, actor: Any = None,
                 source: str = "portal") -> Outcome:
    """:func:`register` in its own transaction; a duplicate that raced past the check is
    refused like any other duplicate."""
    try:
        with db.transaction() as session:
            p = session.get(CertParticipant, participant_id)
            if p is None:
                raise CertError(N_("No such participant."), kind="not_found", http=404)
            reg = register(session, field_id, p, actor=actor, source=source)
            return Outcome(reg.code, reg.status, reg.seat_no, position(session, reg))
    except IntegrityError as exc:
        if "uq_cert_registrations_active" in str(exc.orig) or "participant_id" in str(exc.orig):
            raise CertError(N_("You are already registered for this field."), kind="duplicate",
                            http=409) from None
        raise


# -- moving a registration -------------------------------------------------------------------


def _move(session: Session, reg: CertRegistration, sources: Sequence[str],
          **values: Any) -> None:
    """Compare-and-set: change ``reg`` only if it is still in one of ``sources``."""
    session.flush()
    result = session.execute(
        update(CertRegistration)
        .where(CertRegistration.id == reg.id, CertRegistration.status.in_(list(sources)))
        .values(**values)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 1) != 1:
        session.refresh(reg)
        raise CertError(N_("Registration %(code)s was changed meanwhile (it is now %(status)s); "
                        "reload the page."), kind="conflict", http=409, code=reg.code,
                        status=reg.status)
    session.refresh(reg)


def _end(session: Session, reg: CertRegistration, status: RegStatus, *, actor: Any,
         reason: str) -> None:
    held = reg.status in HOLDING
    _move(session, reg, ACTIVE if status == RegStatus.CANCELLED else (RegStatus.OFFERED.value,),
          status=status.value, seat_no=None, offer_expires_at=None, ended_at=now(),
          end_reason=reason[:2000], ended_by=getattr(actor, "id", None))
    if held:
        seats.release(session, reg.field_id)
    audit(session, f"certification.{status.value}", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "field": reg.field_id,
                                     "had_seat": held, "reason": reason})
    if held:
        fill(session, reg.field)


def cancel(session: Session, reg: CertRegistration, *, actor: Any = None, reason: str = "",
           by_staff: bool = False) -> None:
    """Cancel an active registration; a freed seat goes to the waiting list."""
    if reg.status not in ACTIVE:
        raise CertError(N_("Registration %(code)s is no longer active."), kind="not_active",
                        http=409, code=reg.code)
    if not by_staff:
        prog = reg.field.programme
        deadline = prog.cancel_until or prog.registration_closes_at
        if reg.status != RegStatus.WAITLISTED and deadline is not None and now() >= deadline:
            raise CertError(N_("Cancellation closed on %(when)s; contact BPTI."),
                            kind="cancel_closed", http=409,
                            when=deadline.isoformat(timespec="minutes"))
        if prog.state not in SEATING_STATES:
            raise CertError(N_("This programme can no longer be changed on the portal."),
                            kind="not_open", http=409)
    elif not reason.strip():
        raise CertError(N_("Say why the registration is cancelled."), kind="reason_needed")
    _end(session, reg, RegStatus.CANCELLED, actor=actor, reason=reason)
    if by_staff:
        notices.ended(session, reg, reason)


def accept_offer(session: Session, reg: CertRegistration, *, actor: Any = None) -> None:
    if reg.status != RegStatus.OFFERED:
        raise CertError(N_("There is no seat offer on registration %(code)s."), kind="no_offer",
                        http=409, code=reg.code)
    if reg.offer_expires_at is not None and reg.offer_expires_at <= now():
        raise CertError(N_("The seat offer expired at %(when)s."), kind="offer_expired", http=409,
                        when=reg.offer_expires_at.isoformat(timespec="minutes"))
    _move(session, reg, (RegStatus.OFFERED.value,), status=RegStatus.CONFIRMED.value,
          confirmed_at=now(), offer_expires_at=None)
    audit(session, "certification.accept_offer", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "seat": reg.seat_no})
    notices.registered(session, reg)


def decline_offer(session: Session, reg: CertRegistration, *, actor: Any = None) -> None:
    if reg.status != RegStatus.OFFERED:
        raise CertError(N_("There is no seat offer on registration %(code)s."), kind="no_offer",
                        http=409, code=reg.code)
    _end(session, reg, RegStatus.OFFER_DECLINED, actor=actor, reason="declined")


def fill(session: Session, field: CertField) -> list[CertRegistration]:
    """Offer free seats of ``field`` to the waiting list, first come first served."""
    prog = field.programme
    if prog.state not in SEATING_STATES:
        return []
    offered: list[CertRegistration] = []
    while True:
        nxt = session.scalar(select(CertRegistration).where(
            CertRegistration.field_id == field.id,
            CertRegistration.status == RegStatus.WAITLISTED.value)
            .order_by(CertRegistration.id).limit(1))
        if nxt is None:
            break
        seat = seats.claim(session, field.id)
        if seat is None:
            break
        moment = now()
        _move(session, nxt, (RegStatus.WAITLISTED.value,), status=RegStatus.OFFERED.value,
              seat_no=seat, offered_at=moment,
              offer_expires_at=moment + timedelta(hours=prog.offer_hours))
        audit(session, "certification.offer", object_type="cert_registration",
              object_id=nxt.id, details={"code": nxt.code, "seat": seat,
                                         "expires": nxt.offer_expires_at.isoformat()
                                         if nxt.offer_expires_at else None})
        notices.offered(session, nxt)
        offered.append(nxt)
    return offered


def expire_offers(session: Session, at: datetime | None = None) -> int:
    """End the offers whose time is up and hand their seats on; how many ended."""
    at = at or now()
    due = list(session.scalars(select(CertRegistration).where(
        CertRegistration.status == RegStatus.OFFERED.value,
        CertRegistration.offer_expires_at <= at).order_by(CertRegistration.offer_expires_at)))
    for reg in due:
        _end(session, reg, RegStatus.OFFER_EXPIRED, actor=None, reason="offer expired")
        notices.ended(session, reg)
    return len(due)


def change_quota(session: Session, field: CertField, quota: int, *, actor: Any = None) -> None:
    if quota < 0 or quota > 100_000:
        raise CertError(N_("A quota is a whole number from 0 to 100000."))
    old = field.quota
    if quota == old:
        return
    if not seats.set_quota(session, field.id, quota):
        _quota, held = seats.counts(session, field.id)
        raise CertError(N_("%(held)d seats of %(field)s are taken; the quota cannot go below that. "
                        "Cancel registrations first."), kind="quota_below_taken", http=409,
                        held=held, field=field.name)
    session.refresh(field)
    audit(session, "certification.quota", actor=actor, object_type="cert_field",
          object_id=field.id, details={"old": old, "new": quota})
    if quota > old:
        fill(session, field)


# -- payments --------------------------------------------------------------------------------


class PaymentForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    amount: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    method: str = Field(default="transfer", max_length=40)
    reference: str = Field(default="", max_length=120)
    paid_on: date
    note: str = Field(default="", max_length=1000)


def _payment_status(reg: CertRegistration, total: int, refunded: bool) -> str:
    if reg.payment_status == PaymentStatus.WAIVED:
        return PaymentStatus.WAIVED.value
    if reg.fee == 0 and total == 0:
        return PaymentStatus.NONE.value
    if total <= 0:
        return (PaymentStatus.REFUNDED if refunded else PaymentStatus.UNPAID).value
    if total < reg.fee:
        return PaymentStatus.PARTIAL.value
    return PaymentStatus.PAID.value


def record_payment(session: Session, reg: CertRegistration, data: dict[str, Any], *,
                   actor: Any = None) -> CertPayment:
    """Record a payment (or a refund, a negative amount) made outside the system."""
    try:
        form = PaymentForm.model_validate(data)
    except ValidationError as exc:
        raise form_error(exc, {"amount": "Jumlah", "paid_on": "Tanggal bayar"}) from None
    if form.amount == 0:
        raise CertError(N_("A payment of zero records nothing."))
    paid = int(session.scalar(select(func.coalesce(func.sum(CertPayment.amount), 0))
                              .where(CertPayment.registration_id == reg.id)) or 0)
    if paid + form.amount < 0:
        raise CertError(N_("A refund cannot exceed what was paid (Rp %(paid)s)."),
                        paid=f"{paid:,}".replace(",", "."))
    row = CertPayment(registration_id=reg.id, amount=form.amount, method=form.method,
                      reference=form.reference, paid_on=form.paid_on, note=form.note,
                      recorded_by=getattr(actor, "id", None))
    session.add(row)
    reg.paid_amount = paid + form.amount
    reg.payment_status = _payment_status(reg, reg.paid_amount, form.amount < 0)
    session.flush()
    audit(session, "certification.payment", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "amount": form.amount,
                                     "reference": form.reference,
                                     "status": reg.payment_status})
    return row


def waive(session: Session, reg: CertRegistration, *, actor: Any = None, reason: str = ""
          ) -> None:
    if not reason.strip():
        raise CertError(N_("Say why the fee is waived."), kind="reason_needed")
    reg.payment_status = PaymentStatus.WAIVED.value
    session.flush()
    audit(session, "certification.waive", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "reason": reason})


def settled(reg: CertRegistration) -> bool:
    return reg.payment_status in (PaymentStatus.NONE, PaymentStatus.PAID, PaymentStatus.WAIVED)
