"""Holding a lab for a time span, one party at a time.

:func:`conflicts` finds what already holds a lab, so a person gets a reason with names and
times; :func:`place` inserts the hold inside a savepoint. The database has the last word:
two transactions that both saw the lab free (PostgreSQL, concurrent approvals) cannot both
insert, because the exclusion constraint (or SQLite's trigger) refuses the second, and
:func:`place` turns that refusal into :class:`SlotTaken` while the caller's transaction stays
usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugins.lab.errors import N_, SlotTaken
from plugins.lab.models import Hold, HoldKind
from plugins.lab.timeslots import local

# The names the migration gives the guards; a refusal that mentions one is an overlap.
OVERLAP_MARKERS = ("lab_holds_overlap", "ex_lab_holds_no_overlap")


@dataclass(frozen=True)
class Clash:
    """An existing hold that overlaps the asked span."""

    reference: str
    kind: str
    title: str
    source: str
    source_ref: str
    start: datetime
    end: datetime
    occurrence_id: int | None

    def describe(self) -> str:
        a, b = local(self.start), local(self.end)
        return f"{self.title or self.reference} ({a:%d-%m-%Y %H:%M}-{b:%H:%M})"


def conflicts(session: Session, lab_id: int, start: datetime, end: datetime,
              ignore: Iterable[str] = ()) -> list[Clash]:
    """Holds of ``lab_id`` that overlap ``[start, end)``, earliest first."""
    stmt = (
        select(Hold)
        .where(Hold.lab_id == lab_id, Hold.starts_at < end, Hold.ends_at > start)
        .order_by(Hold.starts_at)
    )
    skip = set(ignore)
    return [
        Clash(h.reference, h.kind, h.title, h.source, h.source_ref, h.starts_at, h.ends_at,
              h.occurrence_id)
        for h in session.scalars(stmt)
        if h.reference not in skip
    ]


def holds_between(session: Session, start: datetime, end: datetime,
                  lab_id: int | None = None) -> Sequence[Hold]:
    stmt = select(Hold).where(Hold.starts_at < end, Hold.ends_at > start)
    if lab_id is not None:
        stmt = stmt.where(Hold.lab_id == lab_id)
    return list(session.scalars(stmt.order_by(Hold.starts_at)))


def new_reference(prefix: str = "LAB") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def is_overlap_error(exc: IntegrityError) -> bool:
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return any(marker in text for marker in OVERLAP_MARKERS)


def place(session: Session, *, lab_id: int, start: datetime, end: datetime, kind: HoldKind,
          title: str, reference: str | None = None, occurrence_id: int | None = None,
          source: str = "lab", source_ref: str = "", seats: int | None = None,
          created_by: int | None = None) -> Hold:
    """Hold ``lab_id`` for ``[start, end)``; raises :class:`SlotTaken` if anything overlaps.

    The check in Python gives the reason; the insert in a savepoint is what makes it true.
    """
    found = conflicts(session, lab_id, start, end)
    if found:
        raise SlotTaken(N_("The lab is already taken at that time: %(what)s."),
                        conflicts=tuple(c.describe() for c in found),
                        what="; ".join(c.describe() for c in found))
    hold = Hold(
        reference=reference or new_reference(), lab_id=lab_id, starts_at=start, ends_at=end,
        kind=kind.value, occurrence_id=occurrence_id, source=source, source_ref=source_ref,
        title=title[:200], seats=seats, created_by=created_by,
    )
    try:
        with session.begin_nested():
            session.add(hold)
    except IntegrityError as exc:
        if not is_overlap_error(exc):
            raise
        # Someone committed an overlapping hold between our check and our insert.
        raise SlotTaken(N_("The lab was taken at that time a moment ago by another "
                           "approval; reload to see it.")) from None
    return hold


def release(session: Session, *, reference: str | None = None,
            occurrence_ids: Iterable[int] = ()) -> int:
    """Drop holds by reference or by occurrence; returns how many went."""
    removed = 0
    if reference is not None:
        removed += session.execute(
            delete(Hold).where(Hold.reference == reference)
            .execution_options(synchronize_session=False)
        ).rowcount or 0  # type: ignore[attr-defined]
    ids = list(occurrence_ids)
    if ids:
        removed += session.execute(
            delete(Hold).where(Hold.occurrence_id.in_(ids))
            .execution_options(synchronize_session=False)
        ).rowcount or 0  # type: ignore[attr-defined]
    return removed
