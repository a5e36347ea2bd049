"""Numbering of quality records: one service for ticket numbers, letters and minutes.

Plugins declare record types through ``ruang_record_types``; staff may replace a type's
format. :func:`issue` hands out the next number inside the caller's transaction, so the
number and the thing it numbers commit or vanish together and numbers have no gaps.

Concurrency: the next value comes from a counter row per (type, period), incremented with
``UPDATE ... RETURNING``. On PostgreSQL the update holds the row lock until commit, so a
second issuer waits and then sees the new value; on SQLite every write transaction already
holds the database's write lock (``BEGIN IMMEDIATE``, see ``core.db``). The unique
constraint on the number is the last guard.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.audit.service import lock_chain
from core.audit.service import record as audit
from core.contracts import RecordType
from core.db import in_write_transaction, utcnow
from core.records.formats import (
    FormatError,
    NumberParts,
    RecordError,
    check_format,
    period_of,
    render,
)
from core.records.models import IssuedRecord, RecordCounter, RecordFormat

__all__ = [
    "FormatError", "IssuedRecord", "RecordError", "TypeInfo", "as_local", "clear_format",
    "issue", "issued", "lookup", "preview", "record_type", "record_types", "set_format",
    "type_infos",
]

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
UNIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")
DEFAULT_TZ = "Asia/Jakarta"

_registry: weakref.WeakKeyDictionary[Any, dict[str, tuple[str, RecordType]]] = (
    weakref.WeakKeyDictionary()
)


# -- record types --------------------------------------------------------------------------


def _host() -> Any:
    from core.instance import ruang

    return ruang().plugins


def _declared() -> dict[str, tuple[str, RecordType]]:
    """Record types of every installed plugin by code, with the plugin that declared them."""
    host = _host()
    cached = _registry.get(host)
    if cached is not None:
        return cached
    out: dict[str, tuple[str, RecordType]] = {}
    for plugin, rtype in host.collect_by_plugin("ruang_record_types", enabled_only=False):
        if not isinstance(rtype, RecordType):
            raise RecordError(f"plugin {plugin} returned {rtype!r} from ruang_record_types, "
                              "not a core.contracts.RecordType")
        if not CODE_RE.match(rtype.code):
            raise RecordError(f"plugin {plugin} declares record type {rtype.code!r}: a code is "
                              "1-40 letters, digits, '.', '_' or '-'")
        if rtype.reset not in ("never", "yearly", "monthly"):
            raise RecordError(f"record type {rtype.code} (plugin {plugin}) has reset "
                              f"{rtype.reset!r}; use never, yearly or monthly")
        if rtype.code in out:
            raise RecordError(f"record type {rtype.code!r} is declared by both "
                              f"{out[rtype.code][0]} and {plugin}")
        out[rtype.code] = (plugin, rtype)
    _registry[host] = out
    return out


def record_types() -> dict[str, RecordType]:
    """Every declared record type by code."""
    return {code: rtype for code, (_plugin, rtype) in sorted(_declared().items())}


def record_type(code: str) -> RecordType:
    """The record type ``code``; :class:`RecordError` if no plugin declares it."""
    found = _declared().get(code)
    if found is None:
        known = ", ".join(sorted(_declared())) or "none (no enabled plugin declares any)"
        raise RecordError(f"unknown record type {code!r}; known types: {known}")
    return found[1]


def _format_of(session: Session, code: str) -> tuple[str, bool]:
    """(format, overridden by staff) of record type ``code``, checked."""
    rtype = record_type(code)
    plugin = _declared()[code][0]
    row = session.get(RecordFormat, code)
    if row is not None:
        try:
            return check_format(row.fmt, rtype.reset), True
        except FormatError as exc:
            raise RecordError(f"the stored format of {code} is not usable ({exc}); "
                              f"set a new one with: ruang records set-format {code} FORMAT"
                              ) from None
    try:
        return check_format(rtype.fmt, rtype.reset), False
    except FormatError as exc:
        raise RecordError(f"the default format of {code} from plugin {plugin} is not usable: "
                          f"{exc}") from None


@dataclass(frozen=True)
class TypeInfo:
    """A record type as the admin page and the CLI show it."""

    code: str
    description: str
    reset: str
    plugin: str
    default_fmt: str
    fmt: str
    overridden: bool
    example: str
    error: str = ""


def type_infos(session: Session, at: datetime | None = None) -> list[TypeInfo]:
    """Every record type with its format in force and the number it would issue next."""
    out: list[TypeInfo] = []
    for code, (plugin, rtype) in sorted(_declared().items()):
        try:
            fmt, overridden = _format_of(session, code)
            example, error = preview(session, code, at=at), ""
        except RecordError as exc:
            row = session.get(RecordFormat, code)
            fmt, overridden = (row.fmt, True) if row else (rtype.fmt, False)
            example, error = "", str(exc)
        out.append(TypeInfo(code, rtype.description, rtype.reset, plugin, rtype.fmt, fmt,
                            overridden, example, error))
    return out


# -- staff's formats -----------------------------------------------------------------------


def set_format(session: Session, code: str, fmt: str, actor: Any = None) -> str:
    """Replace the format of ``code``; a bad format raises :class:`FormatError`, storing nothing."""
    rtype = record_type(code)
    try:
        fmt = check_format(fmt, rtype.reset)
    except FormatError as exc:
        raise FormatError(f"format for {code} refused: {exc}") from None
    row = session.get(RecordFormat, code)
    old = row.fmt if row is not None else None
    if row is None:
        row = RecordFormat(code=code, fmt=fmt)
        session.add(row)
    row.fmt = fmt
    row.changed_at = utcnow()
    row.changed_by = getattr(actor, "id", None)
    session.flush()
    audit(session, "record.format", actor=actor, object_type="record_type", object_id=code,
          details={"old": old, "new": fmt})
    return fmt


def clear_format(session: Session, code: str, actor: Any = None) -> str:
    """Go back to the plugin's default format of ``code``; returns that format."""
    rtype = record_type(code)
    row = session.get(RecordFormat, code)
    if row is not None:
        old = row.fmt
        session.delete(row)
        session.flush()
        audit(session, "record.format", actor=actor, object_type="record_type", object_id=code,
              details={"old": old, "new": None})
    return rtype.fmt


# -- issuing -------------------------------------------------------------------------------


def _timezone() -> ZoneInfo:
    from flask import has_app_context

    name = DEFAULT_TZ
    if has_app_context():
        from core.instance import ruang

        name = ruang().settings.timezone
    return ZoneInfo(name)


def _local(at: datetime | None) -> datetime:
    """``at`` on the instance's wall clock: a minute after local midnight on 1 January is
    the new year for numbering, even though it is still 31 December in UTC."""
    tz = _timezone()
    if at is None:
        return utcnow().astimezone(tz)
    if at.tzinfo is None:
        return at.replace(tzinfo=tz)
    return at.astimezone(tz)


def as_local(moment: datetime) -> datetime:
    """A stored UTC time on the instance's wall clock, for display."""
    return moment.astimezone(_timezone())


def _require_write(session: Session) -> None:
    """A number must be drawn in ``db.transaction()``, which holds the write lock
    from its first statement; a read session would lose the number when it closes."""
    if not in_write_transaction(session):
        raise RecordError("numbers are issued inside a write transaction: "
                          "use `with db.transaction() as session:`")


def _lock_order(session: Session) -> None:
    """On PostgreSQL, take the audit chain's lock before the counter's row lock.

    Issuing audits, so it needs both locks. A caller that audited something earlier in its
    transaction already holds the audit lock; if issuing took the counter lock first, two
    such transactions could each hold one lock and wait for the other.
    """
    lock_chain(session)


def _next_seq(session: Session, code: str, period: str) -> int:
    dialect = session.get_bind().dialect.name
    key = (RecordCounter.code == code, RecordCounter.period == period)
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        session.execute(
            insert(RecordCounter)
            .values(code=code, period=period, value=0)
            .on_conflict_do_nothing(index_elements=["code", "period"])
        )
        stmt = (
            update(RecordCounter)
            .where(*key)
            .values(value=RecordCounter.value + 1)
            .returning(RecordCounter.value)
            .execution_options(synchronize_session=False)
        )
        return int(session.execute(stmt).scalar_one())
    # Other databases: lock the row explicitly.
    counter = session.scalars(select(RecordCounter).where(*key).with_for_update()).first()
    if counter is None:
        counter = RecordCounter(code=code, period=period, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return counter.value


def issue(
    session: Session,
    code: str,
    *,
    ref_type: str = "",
    ref_id: object = "",
    unit: str = "BPTI",
    actor: Any = None,
    at: datetime | None = None,
) -> IssuedRecord:
    """Issue the next number of record type ``code`` inside ``session``'s write transaction.

    ``ref_type`` / ``ref_id`` say what the number is for (``"helpdesk_ticket"``, ``42``);
    ``at`` is the moment the number belongs to (default now), which picks the year and
    month. Rolling the transaction back gives the number back. Raises :class:`RecordError`
    for an unknown type or when the format would repeat an existing number.
    """
    rtype = record_type(code)
    _require_write(session)
    unit = (unit or "").strip()
    if not UNIT_RE.match(unit):
        raise RecordError(f"unit {unit!r} is not usable in a number: 1-40 letters, digits, "
                          "spaces, '.', '_' or '-'")
    ref = str(ref_id)
    if len(ref) > 100 or len(ref_type) > 60:
        raise RecordError("ref_type is at most 60 and ref_id at most 100 characters")
    fmt, _overridden = _format_of(session, code)
    local = _local(at)
    period = period_of(rtype.reset, local.year, local.month)
    _lock_order(session)
    seq = _next_seq(session, code, period)
    number = render(fmt, NumberParts(seq=seq, year=local.year, month=local.month, unit=unit))
    clash = session.scalar(select(IssuedRecord.code).where(IssuedRecord.number == number))
    if clash is not None:
        raise RecordError(
            f"number {number} was already issued (type {clash}); the format of {code} "
            f"({fmt!r}) does not tell its numbers apart: change it with "
            f"ruang records set-format {code} FORMAT"
        )
    row = IssuedRecord(
        code=code, period=period, seq=seq, number=number, unit=unit, ref_type=ref_type,
        ref_id=ref, issued_at=utcnow(), issued_by=getattr(actor, "id", None),
    )
    session.add(row)
    session.flush()
    audit(session, "record.issue", actor=actor, object_type="record", object_id=number,
          details={"code": code, "seq": seq, "ref_type": ref_type, "ref_id": ref})
    return row


def preview(session: Session, code: str, *, unit: str = "BPTI", at: datetime | None = None
            ) -> str:
    """The number :func:`issue` would give now, without issuing it (it may be taken first)."""
    rtype = record_type(code)
    fmt, _overridden = _format_of(session, code)
    local = _local(at)
    period = period_of(rtype.reset, local.year, local.month)
    current = session.scalar(
        select(RecordCounter.value).where(RecordCounter.code == code,
                                          RecordCounter.period == period)
    )
    parts = NumberParts(seq=(current or 0) + 1, year=local.year, month=local.month, unit=unit)
    return render(fmt, parts)


def lookup(session: Session, number: str) -> IssuedRecord | None:
    """The issued record with ``number`` (exactly, else ignoring case), or ``None``."""
    number = number.strip()
    if not number:
        return None
    found = session.scalar(select(IssuedRecord).where(IssuedRecord.number == number))
    if found is None:
        found = session.scalars(
            select(IssuedRecord).where(func.upper(IssuedRecord.number) == number.upper())
            .order_by(IssuedRecord.id).limit(1)
        ).first()
    return found


def issued(session: Session, code: str | None = None, *, limit: int = 100,
           ref_type: str | None = None, ref_id: object | None = None) -> Sequence[IssuedRecord]:
    """The newest issued numbers, of one type or of all."""
    stmt = select(IssuedRecord).order_by(IssuedRecord.id.desc()).limit(limit)
    if code:
        stmt = stmt.where(IssuedRecord.code == code)
    if ref_type is not None:
        stmt = stmt.where(IssuedRecord.ref_type == ref_type)
    if ref_id is not None:
        stmt = stmt.where(IssuedRecord.ref_id == str(ref_id))
    return list(session.scalars(stmt))
