"""Delivery: attendance per session, results (typed by staff or taken from a CBT exam).

A field may name a CBT exam (``exam_ref``, chosen from what ``ruang_assessments`` offers);
its scores come through the core hook ``ruang_assessment_scores``, which the CBT plugin
answers while it is enabled, and are matched to registrations by ID number, e-mail address
or account. Staff can always type results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from plugins.certification.errors import N_, CertError
from plugins.certification.models import (
    CertAttendance,
    CertField,
    CertRegistration,
    CertResult,
    CertSession,
    RegStatus,
)

# -- attendance ------------------------------------------------------------------------------


def attendance_of(session: Session, session_id: int) -> dict[int, CertAttendance]:
    rows = session.scalars(select(CertAttendance).where(CertAttendance.session_id == session_id))
    return {row.registration_id: row for row in rows}


def mark(session: Session, row: CertSession, present_ids: set[int], *, actor: Any,
         roster_ids: set[int] | None = None) -> tuple[int, int]:
    """Mark who was at ``row``: everyone confirmed in the field is present if their
    registration id is in ``present_ids``, else absent. Returns (present, absent)."""
    confirmed = {r.id for r in session.scalars(select(CertRegistration).where(
        CertRegistration.field_id == row.field_id,
        CertRegistration.status == RegStatus.CONFIRMED.value))}
    unknown = present_ids - confirmed
    if unknown:
        raise CertError(N_("Registrations %(ids)s are not confirmed in this field."),
                        ids=", ".join(str(i) for i in sorted(unknown)))
    scope = confirmed if roster_ids is None else (confirmed & roster_ids)
    existing = attendance_of(session, row.id)
    changed: dict[str, bool] = {}
    for reg_id in sorted(scope):
        present = reg_id in present_ids
        mark_row = existing.get(reg_id)
        if mark_row is None:
            session.add(CertAttendance(session_id=row.id, registration_id=reg_id,
                                       present=present, marked_by=getattr(actor, "id", None)))
            changed[str(reg_id)] = present
        elif mark_row.present != present:
            mark_row.present = present
            mark_row.marked_by = getattr(actor, "id", None)
            changed[str(reg_id)] = present
    session.flush()
    if changed:
        audit(session, "certification.attendance", actor=actor, object_type="cert_session",
              object_id=row.id, details={"changes": changed})
    here = sum(1 for r in scope if r in present_ids)
    return here, len(scope) - here


def attendance_rate(session: Session, reg: CertRegistration) -> tuple[int, int]:
    """(sessions attended, sessions of the field)."""
    total = int(session.scalar(select(func.count()).select_from(CertSession)
                               .where(CertSession.field_id == reg.field_id)) or 0)
    attended = int(session.scalar(select(func.count()).select_from(CertAttendance).where(
        CertAttendance.registration_id == reg.id, CertAttendance.present.is_(True))) or 0)
    return attended, total


def attendance_ok(session: Session, reg: CertRegistration) -> tuple[bool, int]:
    """Whether ``reg`` attended enough of its field's sessions, and the percentage."""
    attended, total = attendance_rate(session, reg)
    if total == 0:
        return True, 100
    pct = round(100 * attended / total)
    return pct >= reg.field.programme.min_attendance, pct


# -- results ---------------------------------------------------------------------------------


def result_of(session: Session, reg_id: int) -> CertResult | None:
    return session.scalar(select(CertResult).where(CertResult.registration_id == reg_id))


def _decide(field: CertField, score: float | None, passed: bool | None) -> bool:
    if score is not None and field.pass_mark is not None:
        return score >= field.pass_mark
    if passed is None:
        raise CertError(N_("Give a score (the field has no pass mark) or say passed or failed."))
    return passed


def enter_result(session: Session, reg: CertRegistration, *, score: float | None,
                 passed: bool | None = None, note: str = "", actor: Any,
                 source: str = "staff", exam_ref: str = "") -> CertResult:
    if reg.status != RegStatus.CONFIRMED:
        raise CertError(N_("Registration %(code)s holds no confirmed seat; it gets no result."),
                        kind="not_confirmed", http=409, code=reg.code)
    if score is not None and not 0 <= score <= 100:
        raise CertError(N_("A score is between 0 and 100."))
    from plugins.certification.models import Certificate

    if session.scalar(select(Certificate.id).where(Certificate.registration_id == reg.id)):
        raise CertError(N_("A certificate was issued for %(code)s; its result is final."),
                        kind="final", http=409, code=reg.code)
    decided = _decide(reg.field, score, passed)
    row = result_of(session, reg.id)
    before = None if row is None else {"score": row.score, "passed": row.passed}
    if row is None:
        row = CertResult(registration_id=reg.id, score=score, passed=decided)
        session.add(row)
    row.score, row.passed, row.note = score, decided, note[:300]
    row.source, row.exam_ref = source, exam_ref
    row.entered_by = getattr(actor, "id", None)
    from core.db import utcnow

    row.entered_at = utcnow()
    session.flush()
    audit(session, "certification.result", actor=actor, object_type="cert_registration",
          object_id=reg.id, details={"code": reg.code, "before": before, "score": score,
                                     "passed": decided, "source": source})
    return row


def enter_results(session: Session, field: CertField, rows: Mapping[int, tuple[Any, Any]],
                  *, actor: Any) -> int:
    """Staff's roster form: ``{registration id: (score text, passed text)}``; blank rows are
    skipped. Every row is checked before any is stored."""
    prepared: list[tuple[CertRegistration, float | None, bool | None]] = []
    problems = []
    for reg_id, (score_text, passed_text) in rows.items():
        score_text = str(score_text or "").strip().replace(",", ".")
        passed_text = str(passed_text or "").strip().lower()
        if not score_text and not passed_text:
            continue
        reg = session.get(CertRegistration, reg_id)
        if reg is None or reg.field_id != field.id:
            problems.append(f"#{reg_id}: ?")
            continue
        try:
            score = float(score_text) if score_text else None
        except ValueError:
            problems.append(f"{reg.code}: {score_text!r}")
            continue
        passed = {"pass": True, "passed": True, "1": True, "fail": False, "failed": False,
                  "0": False}.get(passed_text) if passed_text else None
        prepared.append((reg, score, passed))
    if problems:
        raise CertError(N_("These results are not numbers: %(rows)s"), rows=", ".join(problems))
    for reg, score, passed in prepared:
        try:
            enter_result(session, reg, score=score, passed=passed, actor=actor)
        except CertError as exc:
            raise CertError(N_("%(code)s: %(why)s"), code=reg.code, why=exc.translated()) from None
    return len(prepared)


@dataclass(frozen=True)
class ImportReport:
    matched: int
    unmatched: int
    skipped: int
    available: bool


def exam_choices(session: Session) -> list[Any]:
    """Exams other plugins offer as a test (``ruang_assessments``), for the field form."""
    from core.instance import ruang

    host = ruang().plugins
    if not hasattr(host.all_hook, "ruang_assessments"):
        return []
    return list(host.collect("ruang_assessments", session=session, query=""))


def import_exam(session: Session, field: CertField, *, actor: Any) -> ImportReport:
    """Take the results of the field's exam through the core hook
    ``ruang_assessment_scores`` (the CBT plugin answers for its exams while it is enabled).

    Scores are percentages; the field's pass mark decides who passed. People are matched by
    their ID number (NIM/NIP/NIK), else by e-mail address, else by account.
    """
    if not field.exam_ref:
        raise CertError(N_("%(field)s has no CBT exam attached."), kind="no_exam", http=409,
                        field=field.name)
    if field.pass_mark is None:
        raise CertError(N_("Set the pass mark of %(field)s first: it decides who passed the exam."),
                        kind="no_pass_mark", http=409, field=field.name)
    from core.instance import ruang

    host = ruang().plugins
    if not hasattr(host.all_hook, "ruang_assessment_scores"):
        return ImportReport(0, 0, 0, False)
    found = host.hook.ruang_assessment_scores(session=session, ref=field.exam_ref)
    if found is None:
        return ImportReport(0, 0, 0, False)
    confirmed = list(session.scalars(select(CertRegistration).where(
        CertRegistration.field_id == field.id,
        CertRegistration.status == RegStatus.CONFIRMED.value)))
    by_id = {r.participant.id_number.strip().upper(): r for r in confirmed
             if r.participant.id_number.strip()}
    by_email = {r.participant.email.lower(): r for r in confirmed}
    by_user = {r.participant.user_id: r for r in confirmed if r.participant.user_id}
    matched = unmatched = skipped = 0
    for res in found:
        reg = by_id.get((res.identifier or "").strip().upper()) if res.identifier else None
        reg = reg or by_email.get((res.email or "").strip().lower())
        reg = reg or (by_user.get(res.user_id) if res.user_id else None)
        if reg is None:
            unmatched += 1
            continue
        try:
            enter_result(session, reg, score=max(0.0, min(100.0, float(res.score))),
                         actor=actor, source="cbt", exam_ref=field.exam_ref,
                         note=f"CBT {res.finished_at.isoformat() if res.finished_at else ''}"
                         .strip())
            matched += 1
        except CertError:
            skipped += 1
    audit(session, "certification.import_exam", actor=actor, object_type="cert_field",
          object_id=field.id, details={"exam": field.exam_ref, "matched": matched,
                                       "unmatched": unmatched, "skipped": skipped})
    return ImportReport(matched, unmatched, skipped, True)
