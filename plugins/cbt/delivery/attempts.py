"""An attempt's life on a kiosk: staged, started, answered, submitted; the server's clock.

States of :class:`~plugins.cbt.delivery.models.DeliveryAttempt`:

* ``ready``: the candidate signed in and the kiosk holds the encrypted paper, but not its
  key. The proctor's start (:func:`start_session`) or the session token typed at the kiosk
  (:func:`start_by_token`) moves it to ``running``; each start is one conditional UPDATE,
  so an attempt starts once however many starts race.
* ``running``: the deadline is fixed in the database (``deadline_at``: start + duration +
  extra time, never past the exam's closing time). Remaining time is always computed from
  it, so it survives reconnects, reloads, a move to another PC and a server restart. The
  kiosk only displays it.
* ``submitted``: by the candidate (:func:`submit`), by the server at the deadline
  (:func:`auto_submit_due`, a background job), or by a proctor. Answers are refused from
  then on.

Authoring's :attr:`plugins.cbt.models.Attempt.status` follows: ``in_progress`` when
running, ``submitted`` at the end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import Database, utcnow
from plugins.cbt.delivery import paper
from plugins.cbt.delivery.models import Answer, DeliveryAttempt, SessionStart
from plugins.cbt.delivery.push import changed, emit, emit_after_commit, ms
from plugins.cbt.models import Attempt, CbtSession, Exam

__all__ = ["GRACE_S", "DeliveryError", "Started", "auto_submit_due", "current_answers",
           "deadline_for", "login_hash", "remaining_s", "reset_login", "start_by_token",
           "start_session", "submit"]

GRACE_S = 2.0
"""An answer is still taken this long after the deadline: it was given before the kiosk's
countdown ended and was on its way. The kiosk locks its inputs at the deadline."""


class DeliveryError(Exception):
    """A refused step; ``code`` is the protocol's error code (docs/protocol.md)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Started:
    attempt_id: int
    key: str  # base64 of the raw 32-byte AES key
    deadline: datetime


def login_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_login(stored: str, secret_hash: str) -> bool:
    return bool(stored) and hmac.compare_digest(stored, secret_hash)


def deadline_for(started_at: datetime, duration_s: int, extra_s: int,
                 closes_at: datetime | None) -> datetime:
    deadline = started_at + timedelta(seconds=duration_s + extra_s)
    return min(deadline, closes_at) if closes_at is not None else deadline


def remaining_s(delivery: DeliveryAttempt, now: datetime | None = None) -> float | None:
    if delivery.deadline_at is None:
        return None
    return max(0.0, (delivery.deadline_at - (now or utcnow())).total_seconds())


def exam_of(session: Session, attempt_id: int) -> Exam | None:
    """The exam of an attempt, without loading the attempt's items."""
    exam_id = session.scalar(select(Attempt.exam_id).where(Attempt.id == attempt_id))
    return session.get(Exam, exam_id) if exam_id is not None else None


def _set_status(session: Session, attempt_ids: list[int], status: str) -> None:
    if attempt_ids:
        session.execute(update(Attempt).where(Attempt.id.in_(attempt_ids))
                        .values(status=status).execution_options(synchronize_session=False))


def data_key_of(session: Session, attempt_id: int) -> int | None:
    """The id of the data key that seals the attempt's exam (and its paper key), in one
    small query: a kiosk's ``hello`` on every reconnect needs only this of the exam."""
    found: int | None = session.scalar(
        select(Exam.data_key_id).join(Attempt, Attempt.exam_id == Exam.id)
        .where(Attempt.id == attempt_id))
    return found


def key_b64(session: Session, data_key_id: int, delivery: DeliveryAttempt) -> str:
    raw = paper.paper_key(session, data_key_id, delivery.attempt_id, delivery.paper_key_enc)
    return base64.b64encode(raw).decode()


START_CHUNK = 500
"""Attempts started by one ``UPDATE``: well under the bound-parameter limits of both engines."""


def _start_rows(session: Session, deliveries: list[Any], by: str,
                now: datetime) -> list[Started]:
    """Start each ``ready`` attempt of ``deliveries``; those another start took are skipped.

    Attempts with the same deadline start in one ``UPDATE ... RETURNING``: a proctor's start
    of a full room is a few statements, not one per candidate, because the whole start
    holds the server's event loop before the first kiosk hears of it.
    """
    exam_ids: dict[int, int] = {int(a): int(e) for a, e in session.execute(
        select(Attempt.id, Attempt.exam_id).where(
            Attempt.id.in_([d.attempt_id for d in deliveries])))}
    exams: dict[int, Exam | None] = {}
    by_deadline: dict[datetime, list[tuple[Any, Exam]]] = {}
    for d in deliveries:
        exam_id = exam_ids.get(d.attempt_id)
        if exam_id is None:
            continue
        if exam_id not in exams:
            exams[exam_id] = session.get(Exam, exam_id)
        exam = exams[exam_id]
        if exam is None:
            continue
        deadline = deadline_for(now, d.duration_s, d.extra_s + d.paused_s, exam.closes_at)
        if deadline <= now:
            continue  # the exam has closed: starting would give no time at all
        by_deadline.setdefault(deadline, []).append((d, exam))
    started: list[Started] = []
    for deadline, members in by_deadline.items():
        for i in range(0, len(members), START_CHUNK):
            chunk = members[i:i + START_CHUNK]
            won = set(session.execute(
                update(DeliveryAttempt)
                .where(DeliveryAttempt.attempt_id.in_([d.attempt_id for d, _ in chunk]),
                       DeliveryAttempt.state == "ready")
                .values(state="running", started_at=now, started_by=by, deadline_at=deadline)
                .returning(DeliveryAttempt.attempt_id)
                .execution_options(synchronize_session=False)
            ).scalars())
            started.extend(Started(d.attempt_id, key_b64(session, exam.data_key_id, d), deadline)
                           for d, exam in chunk if d.attempt_id in won)
    _set_status(session, [s.attempt_id for s in started], "in_progress")
    changed(session, [s.attempt_id for s in started])
    return started


def _announce(session: Session, started: list[Started], now: datetime) -> None:
    for s in started:
        emit_after_commit(session, "started", {"key": s.key, "deadline": ms(s.deadline),
                                               "now": ms(now)}, s.attempt_id)


def start_session(session: Session, cbt_session: CbtSession, actor: Any = None,
                  now: datetime | None = None) -> list[Started]:
    """The proctor's start: every candidate of the session who is signed in and waiting
    gets their key now. Candidates who sign in later start with the token; those late (see
    :func:`~plugins.cbt.delivery.seatmap.is_late`) or refused wait for the proctor's
    admission.

    Only the columns a start needs are read: the rows also hold every candidate's
    encrypted paper, which a room of a thousand would otherwise load for nothing.
    """
    from plugins.cbt.delivery.seatmap import is_late, room_started_at

    now = now or utcnow()
    if cbt_session.status == "cancelled":
        raise DeliveryError("cancelled", "the session is cancelled")
    room_start = room_started_at(session, cbt_session.id)
    da = DeliveryAttempt
    waiting = [row for row in session.execute(
        select(da.attempt_id, da.duration_s, da.extra_s, da.paused_s, da.paper_key_enc,
               da.admission)
        .where(da.session_id == cbt_session.id, da.state == "ready", da.login_hash != "",
               da.admission != "refused"))
        if not is_late("ready", row.admission, room_start, now)]
    started = _start_rows(session, waiting, "proctor", now)
    if session.get(SessionStart, cbt_session.id) is None:
        session.add(SessionStart(session_id=cbt_session.id, started_at=now,
                                 started_by=getattr(actor, "id", None)))
    audit(session, "cbt.session.started", actor=actor, object_type="cbt_sessions",
          object_id=cbt_session.id, details={"attempts": [s.attempt_id for s in started]})
    _announce(session, started, now)
    return started


def start_by_token(db: Database, attempt_id: int, secret_hash: str, typed: str,
                   now: datetime | None = None) -> Started:
    """The candidate typed the session token at the kiosk: start their attempt.

    A candidate the proctor refused, or who comes late (see
    :func:`~plugins.cbt.delivery.seatmap.is_late`), waits for the proctor's admission.
    """
    from plugins.cbt.delivery import tokens
    from plugins.cbt.delivery.seatmap import is_late, room_started_at

    now = now or utcnow()
    with db.session() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        if d is None or not same_login(d.login_hash, secret_hash):
            raise DeliveryError("logged_out")
        session_id = d.session_id
        state = d.state
        admission = d.admission
        room_start = room_started_at(s, session_id) if session_id is not None else None
    if state == "submitted":
        raise DeliveryError("submitted")
    if session_id is None:
        raise DeliveryError("no_session")
    if state == "ready" and admission == "refused":
        raise DeliveryError("refused")
    if state == "ready" and not tokens.check(db, session_id, typed, now):
        raise DeliveryError("bad_token")
    if is_late(state, admission, room_start, now):
        raise DeliveryError("needs_admission")
    with db.transaction() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        assert d is not None
        if d.state in ("running", "paused"):
            key_id = data_key_of(s, attempt_id)
            assert key_id is not None and d.deadline_at is not None
            return Started(attempt_id, key_b64(s, key_id, d), d.deadline_at)
        started = _start_rows(s, [d], "token", now)
        if not started:
            raise DeliveryError("closed", "the exam has closed")
        audit(s, "cbt.attempt.started", object_type="cbt_attempt", object_id=attempt_id,
              details={"by": "token", "deadline": started[0].deadline.isoformat()})
    return started[0]


def _close(session: Session, d: DeliveryAttempt, by: str, now: datetime) -> bool:
    won = session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.attempt_id == d.attempt_id, DeliveryAttempt.state != "submitted")
        .values(state="submitted", submitted_at=now, submitted_by=by)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not won:
        return False
    _set_status(session, [d.attempt_id], "submitted")
    emit_after_commit(session, "submitted", {"by": by, "at": ms(now)}, d.attempt_id)
    changed(session, [d.attempt_id])
    return True


def submit(db: Database, attempt_id: int, secret_hash: str, by: str = "candidate",
           now: datetime | None = None) -> tuple[datetime, int, bool]:
    """The candidate submits; returns (when, items answered, whether it was already done)."""
    now = now or utcnow()
    with db.transaction() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        if d is None or not same_login(d.login_hash, secret_hash):
            raise DeliveryError("logged_out")
        if d.state == "submitted":
            assert d.submitted_at is not None
            return d.submitted_at, answered_count(s, attempt_id), True
        if d.state == "paused":
            raise DeliveryError("paused")
        if d.locked:
            raise DeliveryError("locked")
        if d.state != "running":
            raise DeliveryError("not_running")
        _close(s, d, by, now)
        count = answered_count(s, attempt_id)
        audit(s, "cbt.attempt.submitted", object_type="cbt_attempt", object_id=attempt_id,
              details={"by": by, "answered": count})
    return now, count, False


def force_submit(session: Session, attempt_id: int, actor: Any, reason: str = "",
                 now: datetime | None = None) -> bool:
    """A proctor ends an attempt now (whatever its state); audited with the reason."""
    now = now or utcnow()
    d = session.get(DeliveryAttempt, attempt_id)
    if d is None or d.state == "submitted":
        return False
    _close(session, d, "proctor", now)
    audit(session, "cbt.attempt.force_submitted", actor=actor, object_type="cbt_attempt",
          object_id=attempt_id, details={"reason": reason[:300]})
    return True


def auto_submit_due(db: Database, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Submit every running attempt whose deadline (and grace) has passed; the kiosk may be
    offline or gone. Returns the attempts it submitted."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=GRACE_S)
    with db.session() as s:
        due = [int(x) for x in s.scalars(
            select(DeliveryAttempt.attempt_id)
            .where(DeliveryAttempt.state == "running", DeliveryAttempt.deadline_at <= cutoff)
            .limit(limit))]
    if not due:
        return []
    done: list[int] = []
    with db.transaction() as s:
        for attempt_id in due:
            d = s.get(DeliveryAttempt, attempt_id)
            if d is not None and d.state == "running" and _close(s, d, "deadline", now):
                done.append(attempt_id)
        if done:
            audit(s, "cbt.attempts.auto_submitted", object_type="cbt_attempt",
                  object_id=done[0] if len(done) == 1 else "",
                  details={"attempts": done, "reason": "deadline"})
    return done


def reset_login(session: Session, attempt_id: int, actor: Any, reason: str = "") -> bool:
    """Sign the candidate out of their kiosk (answers and time kept), so they can sign in
    on another PC of the lab. The old kiosk is told at once and refused from then on."""
    d = session.get(DeliveryAttempt, attempt_id)
    if d is None or d.state == "submitted":
        return False
    old_kiosk = d.kiosk_id
    d.kiosk_id = None
    d.login_hash = ""
    d.resets += 1
    audit(session, "cbt.attempt.login_reset", actor=actor, object_type="cbt_attempt",
          object_id=attempt_id, details={"kiosk": old_kiosk, "reason": reason[:300]})
    emit_after_commit(session, "logged_out", {"reason": "reset"}, attempt_id)
    changed(session, [attempt_id])
    return True


def extend(session: Session, attempt_id: int, seconds: int, actor: Any,
           reason: str = "") -> datetime | None:
    """Give one candidate more (or less) time; the kiosk hears the new deadline."""
    d = session.get(DeliveryAttempt, attempt_id)
    if d is None or d.state == "submitted":
        return None
    d.extra_s += seconds
    if d.started_at is not None:
        exam = exam_of(session, attempt_id)
        d.deadline_at = deadline_for(d.started_at, d.duration_s, d.extra_s + d.paused_s,
                                     exam.closes_at if exam else None)
    audit(session, "cbt.attempt.time_changed", actor=actor, object_type="cbt_attempt",
          object_id=attempt_id, details={"seconds": seconds, "reason": reason[:300],
                                         "deadline": d.deadline_at.isoformat()
                                         if d.deadline_at else None})
    emit_after_commit(session, "time", {"deadline": ms(d.deadline_at), "now": ms(utcnow()),
                                        "extra_s": d.extra_s}, attempt_id)
    changed(session, [attempt_id])
    return d.deadline_at


# -- reading answers ----------------------------------------------------------------------


def current_answers(session: Session, attempt_id: int) -> dict[int, tuple[Any, bool, int]]:
    """Each item's latest change: position -> (value, flagged, seq)."""
    out: dict[int, tuple[Any, bool, int]] = {}
    rows = session.execute(
        select(Answer.position, Answer.value, Answer.flagged, Answer.seq)
        .where(Answer.attempt_id == attempt_id).order_by(Answer.seq))
    for position, value, flagged, seq in rows:
        out[int(position)] = (value, bool(flagged), int(seq))
    return out


def _answered(value: Any) -> bool:
    if value is None or value == "" or value == []:
        return False
    if isinstance(value, list):
        return any(v is not None for v in value)
    return True


def answered_count(session: Session, attempt_id: int) -> int:
    return sum(1 for v, _f, _s in current_answers(session, attempt_id).values() if _answered(v))


def last_seq(session: Session, attempt_id: int) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.max(Answer.seq)).where(
        Answer.attempt_id == attempt_id)) or 0)


def notify_time(attempt_id: int, deadline: datetime | None) -> None:
    emit("time", {"deadline": ms(deadline), "now": ms(utcnow())}, attempt_id)
