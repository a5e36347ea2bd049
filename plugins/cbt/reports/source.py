"""Fill the report dataclasses from the CBT tables: minutes of an event, results of an exam.

Attendance: a seated candidate is present when their attempt was started (or at least
signed in at a kiosk) in the session; the rest are absent. Incidents and actions come from
what the kiosks reported (integrity events, folded per candidate and kind) and from the
audit log of proctor actions on the session and its attempts (each with its reason).
Without the delivery tables every seated candidate with an attempt counts as present and
there are no kiosk incidents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.audit.models import AuditEntry
from core.records.service import as_local
from plugins.cbt.analysis.source import delivery_ready, scored_papers, section_titles
from plugins.cbt.models import Attempt, Candidate, CbtEvent, CbtSession, Exam
from plugins.cbt.reports.minutes import (
    Attendee,
    Incident,
    MinutesData,
    Person,
    SessionMinutes,
)
from plugins.cbt.reports.results import ResultRow

LATE_AFTER = timedelta(minutes=5)
KIND_TEXT = {
    "focus_lost": "Jendela ujian kehilangan fokus",
    "fullscreen_exit": "Keluar dari layar penuh",
    "reload": "Halaman ujian dimuat ulang",
    "copy": "Mencoba menyalin teks",
    "paste": "Mencoba menempel teks",
    "cut": "Mencoba memotong teks",
    "contextmenu": "Membuka menu klik kanan",
    "seb_failed": "Pemeriksaan Safe Exam Browser gagal",
    "bad_message": "Kiosk mengirim pesan yang tidak sah",
}
ACTION_TEXT = {
    "cbt.session.started": ("Sesi dimulai oleh pengawas", ""),
    "cbt.attempt.force_submitted": ("Jawaban dikumpulkan oleh pengawas",
                                    "Dikumpulkan paksa"),
    "cbt.attempt.login_reset": ("Login peserta direset (jawaban tetap tersimpan)",
                                "Peserta dapat masuk di PC lain"),
    "cbt.attempt.time_changed": ("Waktu ujian diubah", ""),
    "cbt.attempt.locked": ("Kiosk dikunci", ""),
    "cbt.attempt.unlocked": ("Kiosk dibuka kembali", ""),
    "cbt.attempt.reopened": ("Ujian yang sudah dikumpulkan dibuka kembali", ""),
    "cbt.attempt.paused": ("Ujian dijeda (waktu berhenti)", "Dijeda"),
    "cbt.attempt.resumed": ("Ujian dilanjutkan", "Dilanjutkan"),
    "cbt.attempt.admitted": ("Peserta terlambat diizinkan masuk", "Diizinkan"),
    "cbt.attempt.refused": ("Peserta terlambat ditolak", "Ditolak"),
    "cbt.session.message": ("Pesan pengawas kepada peserta", ""),
    "cbt.session.incident": ("Kejadian dicatat pengawas", ""),
}
INCIDENT_CATEGORY = {"technical": "Teknis", "conduct": "Tata tertib", "health": "Kesehatan",
                     "late": "Keterlambatan", "other": "Lain-lain"}
# Preparation and routine entries on the same objects that are not incidents.
ROUTINE = ("cbt.session.scheduled", "cbt.session.seated", "cbt.session.removed",
           "cbt.attempt.created", "cbt.attempt.started", "cbt.attempt.submitted",
           "cbt.attempts.auto_submitted", "cbt.kiosk.signin")


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.username


def head_of_wdm(session: Session) -> Person:
    head = session.scalars(select(User).where(
        User.division == "WDM", User.is_division_head.is_(True), User.active.is_(True))
        .order_by(User.id)).first()
    return Person(_name(head), role="Kabag. WDM")


def _local(moment: datetime | None) -> datetime | None:
    return as_local(moment) if moment is not None else None


def _attendee(c: Candidate, note: str = "") -> Attendee:
    return Attendee(c.participant_number, c.name, c.student_number, c.class_name,
                    c.programme, c.seat, note)


def _session_minutes(session: Session, s: CbtSession, index: int) -> SessionMinutes:
    seated = list(session.scalars(select(Candidate).where(Candidate.session_id == s.id)
                                  .order_by(Candidate.participant_number)))
    attempts: dict[int, Attempt] = {}
    for row in session.scalars(select(Attempt).where(
            Attempt.candidate_id.in_([c.id for c in seated]))
            .order_by(Attempt.number)):
        attempts[row.candidate_id] = row  # the latest attempt
    proctors = [Person(_name(session.get(User, pid))) for pid in (s.proctor_ids or [])]
    present: list[Attendee] = []
    absent: list[Attendee] = []
    incidents: list[tuple[datetime | None, Incident]] = []
    started_at = ended_at = None
    by_attempt = {attempts[c.id].id: c for c in seated if c.id in attempts}

    if delivery_ready(session):
        from plugins.cbt.delivery.models import DeliveryAttempt, IntegrityEvent, SessionStart

        start = session.get(SessionStart, s.id)
        started_at = start.started_at if start else None
        deliveries = {d.attempt_id: d for d in session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.attempt_id.in_(list(by_attempt))))}
        ends = [d.submitted_at for d in deliveries.values() if d.submitted_at is not None]
        running = any(d.state == "running" for d in deliveries.values())
        ended_at = max(ends) if ends and not running else None
        begun = [d.started_at for d in deliveries.values() if d.started_at is not None]
        if started_at is None and begun:
            started_at = min(begun)
        for c in seated:
            d = deliveries.get(attempts[c.id].id) if c.id in attempts else None
            if d is None or (d.started_at is None and d.signed_in_at is None):
                absent.append(_attendee(c))
                continue
            notes = []
            if d.started_at and started_at and d.started_at - started_at > LATE_AFTER:
                notes.append(f"mulai terlambat {_time(d.started_at)}")
            if d.started_at is None:
                notes.append("masuk kiosk, ujian tidak dimulai")
            if d.resets:
                notes.append(f"login direset {d.resets}x")
            if d.submitted_by == "proctor":
                notes.append("dikumpulkan pengawas")
            elif d.submitted_by == "deadline":
                notes.append("dikumpulkan otomatis saat waktu habis")
            present.append(_attendee(c, "; ".join(notes)))
        folded: dict[tuple[int, str], list[Any]] = {}
        for ev in session.scalars(select(IntegrityEvent).where(
                IntegrityEvent.attempt_id.in_(list(by_attempt))).order_by(IntegrityEvent.at)):
            key = (ev.attempt_id, ev.kind)
            if key not in folded:
                folded[key] = [ev.at, ev.at, 0, ev.detail]
            folded[key][1] = ev.at
            folded[key][2] += ev.count
        for (attempt_id, kind), (first, last, count, detail) in folded.items():
            c = by_attempt[attempt_id]
            text = KIND_TEXT.get(kind, kind)
            if count > 1:
                text += f" ({count}x, sampai {_time(last)})"
            if detail:
                text += f": {detail}"
            incidents.append((first, Incident(_local(first), text, "Dicatat otomatis oleh kiosk",
                                              f"{c.name} / {c.seat or '-'}", "Kiosk")))
    else:
        for c in seated:
            (present if c.id in attempts else absent).append(_attendee(c))

    incidents += _actions(session, s, by_attempt)
    incidents.sort(key=lambda pair: (pair[0] is None, pair[0] or datetime.min))
    return SessionMinutes(
        label=f"{index}", lab=s.lab_label, starts_at=as_local(s.starts_at),
        ends_at=as_local(s.ends_at), started_at=_local(started_at), ended_at=_local(ended_at),
        proctors=proctors, present=present, absent=absent,
        incidents=[incident for _at, incident in incidents])


def _time(moment: datetime) -> str:
    from plugins.cbt.reports.document import id_time

    return id_time(as_local(moment))


def _actions(session: Session, s: CbtSession, by_attempt: dict[int, Candidate]
             ) -> list[tuple[datetime | None, Incident]]:
    """Proctor actions and incidents from the audit log, with their reasons."""
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type.in_(("cbt_sessions", "cbt_session")),
        AuditEntry.object_id == str(s.id))))
    if by_attempt:
        entries += session.scalars(select(AuditEntry).where(
            AuditEntry.object_type.in_(("cbt_attempt", "cbt_attempts")),
            AuditEntry.object_id.in_([str(i) for i in by_attempt])))
    out: list[tuple[datetime | None, Incident]] = []
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.action in ROUTINE:
            continue
        details = entry.details or {}
        what, done = ACTION_TEXT.get(entry.action, ("", ""))
        reason = str(details.get("reason") or details.get("note") or "").strip()
        description = str(details.get("description") or "").strip() or what or entry.action
        if entry.action in ("cbt.session.incident", "cbt.session.message"):
            # What the proctor wrote is the substance of the entry, not its kind.
            said = str(details.get("text") or "").strip()
            category = INCIDENT_CATEGORY.get(str(details.get("category") or ""), "")
            label = f"{what} ({category})" if category else what
            description = f"{label}: {said}" if said else label
            attempt = details.get("attempt")
            about = by_attempt.get(attempt) if isinstance(attempt, int) else None
            if about is not None:
                description += f" [{about.name} / {about.seat or '-'}]"
        if entry.action == "cbt.attempt.time_changed":
            seconds = int(details.get("seconds") or 0)
            done = (f"Waktu {'ditambah' if seconds >= 0 else 'dikurangi'} "
                    f"{abs(seconds) // 60} menit")
        action = str(details.get("action") or "").strip() or done
        if reason:
            action = f"{action}. Alasan: {reason}" if action else f"Alasan: {reason}"
        subject = ""
        if entry.object_type in ("cbt_attempt", "cbt_attempts"):
            c = by_attempt.get(int(entry.object_id))
            subject = f"{c.name} / {c.seat or '-'}" if c is not None else ""
        out.append((entry.at, Incident(_local(entry.at), description, action, subject,
                                       entry.actor_name)))
    return out


def minutes_data(session: Session, event: CbtEvent, *, place: str = "",
                 notes: str = "") -> MinutesData:
    """The minutes of ``event`` as they stand: numbered once the event's minutes are issued."""
    exam = session.get(Exam, event.exam_id) if event.exam_id else None
    sessions = list(session.scalars(select(CbtSession).where(
        CbtSession.event_id == event.id, CbtSession.status != "cancelled")
        .order_by(CbtSession.starts_at, CbtSession.id)))
    parts = [_session_minutes(session, s, i) for i, s in enumerate(sessions, start=1)]
    held_on = parts[0].starts_at.date() if parts else event.starts_on
    return MinutesData(
        event_title=event.title, unit=event.unit,
        exam_title=exam.title if exam else "-", exam_code=exam.code if exam else "-",
        held_on=held_on, sessions=parts, number=event.minutes_number,
        letter_number=event.letter_number, head_wdm=head_of_wdm(session), place=place,
        notes=notes)


def result_rows(session: Session, exam: Exam) -> tuple[list[ResultRow], list[str]]:
    """One row per candidate on the roster (absent ones too) and the section titles."""
    titles = section_titles(session, exam)
    from plugins.cbt.exams import max_points

    exam_max = max_points(session, exam)
    papers = {p.candidate.id: p for p in scored_papers(session, exam)}
    rows: list[ResultRow] = []
    roster: Sequence[Candidate] = list(session.scalars(
        select(Candidate).where(Candidate.exam_id == exam.id)
        .order_by(Candidate.participant_number)))
    for c in roster:
        paper = papers.get(c.id)
        if paper is None:
            rows.append(ResultRow(c.participant_number, c.name, c.class_name, c.programme,
                                  c.student_number, None, exam_max, None,
                                  absent=not _has_attempt(session, c)))
            continue
        top = sum(i.spec.max_points for i in paper.items) or exam_max
        pending = any(i.score is None for i in paper.items)
        score = sum(i.score or 0.0 for i in paper.items)
        sections: dict[str, float | None] = {}
        for section_id, title in titles.items():
            mine = [i for i in paper.items if i.section_id == section_id]
            if mine:
                sections[title] = (None if any(i.score is None for i in mine)
                                   else sum(i.score or 0.0 for i in mine))
        passed = None if pending else 100.0 * score / top >= exam.pass_mark if top else None
        rows.append(ResultRow(c.participant_number, c.name, c.class_name, c.programme,
                              c.student_number, None if pending else score, top, passed,
                              sections, _local(paper.submitted_at), marking_pending=pending))
    return rows, list(titles.values())


def _has_attempt(session: Session, c: Candidate) -> bool:
    return session.scalar(select(Attempt.id).where(Attempt.candidate_id == c.id).limit(1)
                          ) is not None


def section_maxima(session: Session, exam: Exam, candidate: Candidate) -> dict[str, float]:
    """The most each section of ``candidate``'s submitted paper could score."""
    titles = section_titles(session, exam)
    out: dict[str, float] = {}
    for paper in scored_papers(session, exam):
        if paper.candidate.id != candidate.id:
            continue
        out.clear()  # a later attempt replaces an earlier one
        for item in paper.items:
            title = titles.get(item.section_id) if item.section_id is not None else None
            if title:
                out[title] = out.get(title, 0.0) + item.spec.max_points
    return out
