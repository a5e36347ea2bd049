"""Seats of a field: taken and given back in the database, never counted in Python.

:func:`claim` is one conditional UPDATE of the field's counter (``seats_held < quota``),
which the database evaluates atomically: on PostgreSQL a concurrent claim on the same
field waits for the row lock and then re-reads the counter, on SQLite the write lock
serialises writers. A CHECK constraint (``seats_held <= quota``) and the unique seat
number per field stand behind it, so even a buggy caller cannot overbook.

Callers run inside ``db.transaction()``; on PostgreSQL the audit chain's lock is taken
first, because every caller audits afterwards (see ``core.audit.service.lock_chain``).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.audit.service import lock_chain
from plugins.certification.errors import N_, CertError
from plugins.certification.models import HOLDING, CertField, CertRegistration


def claim(session: Session, field_id: int) -> int | None:
    """Take one seat of ``field_id`` in this transaction; its number, or ``None`` when full."""
    lock_chain(session)
    row = session.execute(
        update(CertField)
        .where(CertField.id == field_id, CertField.seats_held < CertField.quota)
        .values(seats_held=CertField.seats_held + 1)
        .returning(CertField.quota)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    quota = int(row[0])
    session.flush()
    taken = set(session.scalars(
        select(CertRegistration.seat_no)
        .where(CertRegistration.field_id == field_id, CertRegistration.seat_no.is_not(None))
    ))
    # Fewer seats are taken than the quota (the UPDATE matched), so one of 1..quota is free.
    return next(n for n in range(1, quota + 1) if n not in taken)


def release(session: Session, field_id: int) -> None:
    """Give one seat of ``field_id`` back (the caller clears the registration's seat)."""
    lock_chain(session)
    session.flush()
    result = session.execute(
        update(CertField)
        .where(CertField.id == field_id, CertField.seats_held > 0)
        .values(seats_held=CertField.seats_held - 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise CertError(N_("The seat count of field %(id)s is already zero; run "
                        "`ruang certification check`."), kind="conflict", http=409, id=field_id)


def set_quota(session: Session, field_id: int, quota: int) -> bool:
    """Change the quota unless fewer seats than are taken would remain; whether it changed."""
    lock_chain(session)
    result = session.execute(
        update(CertField)
        .where(CertField.id == field_id, CertField.seats_held <= quota)
        .values(quota=quota)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 1) == 1


def counts(session: Session, field_id: int) -> tuple[int, int]:
    """(quota, seats held) as the database has them now."""
    row = session.execute(select(CertField.quota, CertField.seats_held)
                          .where(CertField.id == field_id)).one()
    return int(row[0]), int(row[1])


def drift(session: Session) -> list[tuple[int, int, int]]:
    """Fields whose counter disagrees with their seat-holding registrations:
    ``(field id, counter, registrations)``. Empty when all is well."""
    holding = dict(session.execute(
        select(CertRegistration.field_id, func.count())
        .where(CertRegistration.status.in_(HOLDING))
        .group_by(CertRegistration.field_id)
    ).all())
    out = []
    for field_id, held in session.execute(select(CertField.id, CertField.seats_held)):
        actual = int(holding.get(field_id, 0))
        if actual != held:
            out.append((field_id, int(held), actual))
    return out
