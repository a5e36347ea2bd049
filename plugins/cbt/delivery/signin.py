"""A candidate signs in at an enrolled kiosk with participant number and password.

The kiosk is identified by its enrolment token (``core.rooms.kiosks.authenticate_token``),
the candidate by ``plugins.cbt.candidates.verify``. A signed-in candidate gets a fresh
*login secret*: the kiosk presents it with every request and socket connection of the
attempt, and only its SHA-256 is stored (``DeliveryAttempt.login_hash``). Signing in again
replaces it; a proctor's login reset clears it.

Rules, each refused with its own code (docs/protocol.md lists them):

* the candidate's session must be in this kiosk's lab, and open for sign-in (from
  :data:`SIGN_IN_EARLY` before its start until its end);
* on the first sign-in the candidate sits at their assigned seat, if they have one; after
  a proctor reset they may continue at any seat of the lab;
* a candidate is signed in on one kiosk at a time, and a kiosk serves one candidate;
* wrong passwords count against the kiosk: :data:`MAX_FAILURES` within
  :data:`FAILURE_WINDOW` pause sign-in there.

The first sign-in makes the attempt (``exams.start_attempt``) and stages its encrypted
paper; later sign-ins reuse both, so a paper never changes once a kiosk has seen it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import Database, utcnow
from core.rooms import kiosks
from core.rooms.models import Kiosk, Lab, Seat
from plugins.cbt import candidates as roster
from plugins.cbt import exams as exam_service
from plugins.cbt.delivery import paper
from plugins.cbt.delivery.attempts import DeliveryError, login_hash
from plugins.cbt.delivery.models import DeliveryAttempt, SignIn
from plugins.cbt.models import Attempt, Candidate, CbtSession, Exam

__all__ = ["FAILURE_WINDOW", "MAX_FAILURES", "SIGN_IN_EARLY", "SignedIn", "sign_in",
           "stage_attempt"]

SIGN_IN_EARLY = timedelta(minutes=60)
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)


@dataclass
class SignedIn:
    """A candidate signed in; ``login`` is the only copy of the secret: hand it over."""

    attempt_id: int
    login: str
    state: str
    candidate: dict[str, Any]
    exam: dict[str, Any]
    session: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _record(db: Database, kiosk_id: int, number: str, ok: bool, reason: str, ip: str,
            candidate_id: int | None = None, attempt_id: int | None = None) -> None:
    with db.transaction() as s:
        s.add(SignIn(kiosk_id=kiosk_id, participant_number=number[:40], ok=ok, reason=reason,
                     ip=ip[:64], candidate_id=candidate_id, attempt_id=attempt_id))


def _throttled(db: Database, kiosk_id: int, now: datetime) -> int:
    """Seconds until this kiosk may try again (0: it may now)."""
    with db.session() as s:
        count, oldest = s.execute(
            select(func.count(), func.min(SignIn.at)).where(
                SignIn.kiosk_id == kiosk_id, SignIn.ok.is_(False),
                SignIn.reason == "wrong", SignIn.at >= now - FAILURE_WINDOW)).one()
    if count < MAX_FAILURES:
        return 0
    return max(int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1, 1)


def stage_attempt(session: Session, exam: Exam, candidate: Candidate,
                  cbt_session: CbtSession) -> tuple[Attempt, DeliveryAttempt]:
    """The candidate's open attempt with its staged paper, made on first need."""
    attempt = session.scalar(select(Attempt).where(Attempt.candidate_id == candidate.id)
                             .order_by(Attempt.number.desc()).limit(1))
    if attempt is not None:
        found = session.get(DeliveryAttempt, attempt.id)
        if found is not None:
            return attempt, found
    held = paper.preload_versions(session, exam)  # noqa: F841 - held: see preload_versions
    if attempt is None:
        attempt = paper.start_attempt(session, exam, candidate)
    staged = paper.stage(session, attempt, exam)
    delivery = DeliveryAttempt(
        attempt_id=attempt.id, session_id=cbt_session.id, candidate_id=candidate.id,
        state="ready", paper_key_enc=paper.seal_key(session, exam, attempt.id, staged.key),
        paper_enc=staged.envelope, shape=staged.shape, duration_s=exam.duration_min * 60)
    session.add(delivery)
    session.flush()
    return attempt, delivery


def sign_in(db: Database, kiosk_token: str, number: str, password: str, *, ip: str = "",
            seb: tuple[str, str] | None = None, now: datetime | None = None) -> SignedIn:
    """Sign a candidate in at the kiosk holding ``kiosk_token``; raises :class:`DeliveryError`.

    ``seb`` is (the page URL, the ``X-SafeExamBrowser-ConfigKeyHash`` it came with), for
    labs that require Safe Exam Browser.
    """
    from plugins.cbt.delivery import integrity

    now = now or utcnow()
    number = number.strip().upper()
    with db.session() as s:
        kiosk = kiosks.authenticate_token(s, kiosk_token)
        if kiosk is None:
            raise DeliveryError("not_enrolled")
        lab, seat = kiosks.kiosk_place(s, kiosk)
        policy_ok = integrity.seb_ok(s, lab.id, seb)
    wait = _throttled(db, kiosk.id, now)
    if wait:
        raise DeliveryError("throttled", str(wait))
    if not policy_ok:
        _record(db, kiosk.id, number, False, "seb", ip)
        raise DeliveryError("seb_required")
    with db.session() as s:
        # argon2 on purpose: the cost is what makes guessing passwords slow. It runs in an
        # OS thread (``roster.password_ok``), so the other kiosks are served meanwhile.
        found = roster.verify(s, number, password)
    if found is None:
        _record(db, kiosk.id, number, False, "wrong", ip)
        raise DeliveryError("wrong")
    try:
        return _bind(db, kiosk, lab, seat, found.id, number, ip, now)
    except DeliveryError as exc:
        _record(db, kiosk.id, number, False, exc.code, ip, candidate_id=found.id)
        raise


def _bind(db: Database, kiosk: Kiosk, lab: Lab, seat: Seat, candidate_id: int, number: str,
          ip: str, now: datetime) -> SignedIn:
    secret = secrets.token_urlsafe(32)
    with db.transaction() as s:
        cand = s.get(Candidate, candidate_id)
        assert cand is not None
        cbt_session = s.get(CbtSession, cand.session_id) if cand.session_id else None
        if cbt_session is None or cbt_session.status == "cancelled":
            raise DeliveryError("no_session")
        if cbt_session.lab_id != lab.id:
            raise DeliveryError("wrong_lab", cbt_session.lab_label)
        if now < cbt_session.starts_at - SIGN_IN_EARLY:
            raise DeliveryError("too_early", cbt_session.starts_at.isoformat())
        if now > cbt_session.ends_at:
            raise DeliveryError("session_over")
        exam = s.get(Exam, cbt_session.exam_id)
        if exam is None or exam.status != "published":
            raise DeliveryError("exam_unavailable")
        try:
            attempt, d = stage_attempt(s, exam, cand, cbt_session)
        except exam_service.ExamError as exc:
            raise DeliveryError("exam_unavailable", str(exc)) from None
        if d.state == "submitted":
            raise DeliveryError("submitted")
        if d.kiosk_id not in (None, kiosk.id) and d.login_hash:
            elsewhere = s.get(Kiosk, d.kiosk_id)
            place = s.get(Seat, elsewhere.seat_id).label if elsewhere else ""  # type: ignore[union-attr]
            raise DeliveryError("elsewhere", place)
        busy = s.scalar(select(Candidate.participant_number)
                        .join(DeliveryAttempt, DeliveryAttempt.candidate_id == Candidate.id)
                        .where(DeliveryAttempt.kiosk_id == kiosk.id,
                               DeliveryAttempt.attempt_id != attempt.id,
                               DeliveryAttempt.state != "submitted",
                               DeliveryAttempt.login_hash != "").limit(1))
        if busy:
            raise DeliveryError("kiosk_busy", busy)
        if cand.seat and d.resets == 0 and seat.label != cand.seat:
            raise DeliveryError("wrong_seat", cand.seat)
        d.kiosk_id = kiosk.id
        d.login_hash = login_hash(secret)
        d.signed_in_at = now
        if d.session_id is None:
            d.session_id = cbt_session.id
        s.add(SignIn(kiosk_id=kiosk.id, participant_number=number[:40], ok=True, reason="",
                     ip=ip[:64], candidate_id=cand.id, attempt_id=attempt.id))
        audit(s, "cbt.kiosk.signin", object_type="cbt_attempt", object_id=attempt.id, ip=ip,
              details={"kiosk": kiosk.id, "lab": lab.code, "seat": seat.label,
                       "candidate": cand.participant_number})
        from plugins.cbt.exams import instructions

        return SignedIn(
            attempt_id=attempt.id, login=secret, state=d.state,
            candidate={"name": cand.name, "number": cand.participant_number,
                       "seat": seat.label},
            exam={"code": exam.code, "title": exam.title, "duration_min": exam.duration_min,
                  "instructions": instructions(s, exam), "items": len(attempt.items)},
            session={"id": cbt_session.id, "lab": lab.name, "starts_at": cbt_session.starts_at,
                     "ends_at": cbt_session.ends_at},
        )
