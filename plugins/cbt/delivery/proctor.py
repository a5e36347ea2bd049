"""What a proctor does to a live exam room, callable without HTTP or sockets.

Every action takes the database session of one transaction, the acting user and a reason
(required: :class:`ProctorError` ``reason_required`` without one), writes an audit entry
(``cbt.attempt.*`` or ``cbt.session.*``, the reason in ``details``) and tells the kiosks
concerned once the transaction commits (events of ``docs/protocol.md`` on the attempt's
room of ``/exam``), and the proctors' seat maps (:mod:`~plugins.cbt.delivery.seatmap`).

Targets: an action on "all" takes every attempt of the session that has not been
submitted (for pause: every running one; for resume: every paused one).

The clock while paused: ``pause`` keeps ``paused_at``; ``resume`` adds the pause's length
to ``paused_s`` and recomputes the deadline from the start, the duration, extra time and
all pauses (:func:`~plugins.cbt.delivery.attempts.deadline_for`, never past the exam's
closing time), so a later extension keeps the pauses. Answers are refused while paused
(``paused``) or locked (``locked``); a lock does not stop the clock.

Incidents (:class:`~plugins.cbt.delivery.models.Incident`, table ``cbt_incidents``) are
what the minutes (berita acara) list; proctor actions are in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt.delivery import attempts
from plugins.cbt.delivery.attempts import deadline_for, exam_of
from plugins.cbt.delivery.models import DeliveryAttempt, Incident
from plugins.cbt.delivery.push import changed, emit_after_commit, ms
from plugins.cbt.models import Attempt, CbtSession

__all__ = ["ACTIONS", "CATEGORIES", "ProctorError", "Result", "act", "admit", "extend",
           "force_submit", "incident", "lock", "may_proctor", "message", "pause", "refuse",
           "reopen", "reset_login", "resume", "unlock"]

CATEGORIES = ("technical", "conduct", "health", "late", "other")
MAX_REASON = 300
MAX_MESSAGE = 500
MAX_INCIDENT = 4000

Action = Literal["admit", "refuse", "extend", "pause", "resume", "lock", "unlock", "reset",
                 "force_submit", "reopen", "message", "incident"]
ACTIONS: tuple[str, ...] = ("admit", "refuse", "extend", "pause", "resume", "lock", "unlock",
                            "reset", "force_submit", "reopen", "message", "incident")


class ProctorError(Exception):
    """A refused action; ``code`` says why (texts.PROCTOR_ERRORS has the words)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Result:
    """What an action did: the attempts it changed (and skipped, e.g. already submitted)."""

    action: str
    done: list[int]
    skipped: list[int]


def may_proctor(user: Any, cbt_session: CbtSession) -> bool:
    """Staff, heads and admins proctor every session; a proctor only the sessions listing
    them among its proctors."""
    from core.accounts.access import can

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not can(user, "cbt.proctor"):
        return False
    if getattr(user, "role", "") in ("admin", "staff", "head"):
        return True
    return getattr(user, "id", None) in (cbt_session.proctor_ids or [])


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ProctorError("reason_required")
    return text[:MAX_REASON]


def _targets(session: Session, session_id: int, attempt_id: int | None,
             states: tuple[str, ...]) -> tuple[list[DeliveryAttempt], list[int]]:
    """The attempts an action applies to: (those in ``states``, the others' ids)."""
    q = select(DeliveryAttempt).where(DeliveryAttempt.session_id == session_id)
    if attempt_id is not None:
        q = q.where(DeliveryAttempt.attempt_id == attempt_id)
    rows = list(session.scalars(q))
    if attempt_id is not None and not rows:
        raise ProctorError("not_found")
    take = [d for d in rows if d.state in states]
    return take, [d.attempt_id for d in rows if d.state not in states]


def _audit(session: Session, action: str, actor: Any, attempt_ids: list[int], session_id: int,
           reason: str, **details: Any) -> None:
    if len(attempt_ids) == 1:
        audit(session, action, actor=actor, object_type="cbt_attempt", object_id=attempt_ids[0],
              details={"reason": reason, "session": session_id, **details})
    else:
        audit(session, action, actor=actor, object_type="cbt_sessions", object_id=session_id,
              details={"reason": reason, "attempts": attempt_ids, **details})


def _deadline(session: Session, d: DeliveryAttempt) -> datetime | None:
    if d.started_at is None:
        return d.deadline_at
    exam = exam_of(session, d.attempt_id)
    return deadline_for(d.started_at, d.duration_s, d.extra_s + d.paused_s,
                        exam.closes_at if exam else None)


# -- admission ------------------------------------------------------------------------------


def admit(session: Session, session_id: int, attempt_id: int, actor: Any, reason: str,
          now: datetime | None = None) -> Result:
    """Let a late (or earlier refused) candidate start; one signed in starts at once."""
    reason = _reason(reason)
    now = now or utcnow()
    take, skipped = _targets(session, session_id, attempt_id, ("ready",))
    for d in take:
        d.admission = "admitted"
    session.flush()
    started = attempts._start_rows(
        session, [d for d in take if d.login_hash], "proctor", now)
    _audit(session, "cbt.attempt.admitted", actor, [d.attempt_id for d in take], session_id,
           reason, started=[s.attempt_id for s in started])
    attempts._announce(session, started, now)
    changed(session, [d.attempt_id for d in take])
    return Result("admit", [d.attempt_id for d in take], skipped)


def refuse(session: Session, session_id: int, attempt_id: int, actor: Any, reason: str) -> Result:
    """Refuse a candidate who has not started: signed out, and not started by the token."""
    reason = _reason(reason)
    take, skipped = _targets(session, session_id, attempt_id, ("ready",))
    for d in take:
        d.admission = "refused"
        d.kiosk_id = None
        d.login_hash = ""
        emit_after_commit(session, "logged_out", {"reason": "refused"}, d.attempt_id)
    _audit(session, "cbt.attempt.refused", actor, [d.attempt_id for d in take], session_id,
           reason)
    changed(session, [d.attempt_id for d in take])
    return Result("refuse", [d.attempt_id for d in take], skipped)


# -- time -----------------------------------------------------------------------------------


def extend(session: Session, session_id: int, attempt_id: int | None, minutes: int, actor: Any,
           reason: str) -> Result:
    """Give one candidate (or everyone not submitted) more time, or less (negative)."""
    reason = _reason(reason)
    if minutes == 0:
        raise ProctorError("invalid", "minutes")
    take, skipped = _targets(session, session_id, attempt_id, ("ready", "running", "paused"))
    for d in take:
        attempts.extend(session, d.attempt_id, minutes * 60, actor, reason)
    return Result("extend", [d.attempt_id for d in take], skipped)


def pause(session: Session, session_id: int, attempt_id: int | None, actor: Any, reason: str,
          now: datetime | None = None) -> Result:
    """Stop the clock of one running attempt (or all): answers are refused until resumed."""
    reason = _reason(reason)
    now = now or utcnow()
    take, skipped = _targets(session, session_id, attempt_id, ("running",))
    for d in take:
        d.state = "paused"
        d.paused_at = now
        emit_after_commit(session, "paused", {"at": ms(now), "now": ms(now)}, d.attempt_id)
    _audit(session, "cbt.attempt.paused", actor, [d.attempt_id for d in take], session_id,
           reason)
    changed(session, [d.attempt_id for d in take])
    return Result("pause", [d.attempt_id for d in take], skipped)


def resume(session: Session, session_id: int, attempt_id: int | None, actor: Any, reason: str,
           now: datetime | None = None) -> Result:
    """Run the clock again; the deadline moves by the length of the pause."""
    reason = _reason(reason)
    now = now or utcnow()
    take, skipped = _targets(session, session_id, attempt_id, ("paused",))
    for d in take:
        held = round((now - (d.paused_at or now)).total_seconds())
        d.paused_s += max(0, held)
        d.paused_at = None
        d.state = "running"
        d.deadline_at = _deadline(session, d)
        emit_after_commit(session, "resumed", {"deadline": ms(d.deadline_at), "now": ms(now),
                                               "paused_s": held}, d.attempt_id)
    _audit(session, "cbt.attempt.resumed", actor, [d.attempt_id for d in take], session_id,
           reason)
    changed(session, [d.attempt_id for d in take])
    return Result("resume", [d.attempt_id for d in take], skipped)


# -- lock, login, submission ------------------------------------------------------------------


def _set_lock(session: Session, session_id: int, attempt_id: int | None, actor: Any,
              reason: str, locked: bool) -> Result:
    reason = _reason(reason)
    take, skipped = _targets(session, session_id, attempt_id, ("ready", "running", "paused"))
    take = [d for d in take if d.locked != locked]
    for d in take:
        d.locked = locked
        emit_after_commit(session, "locked" if locked else "unlocked", {}, d.attempt_id)
    _audit(session, "cbt.attempt.locked" if locked else "cbt.attempt.unlocked", actor,
           [d.attempt_id for d in take], session_id, reason)
    changed(session, [d.attempt_id for d in take])
    return Result("lock" if locked else "unlock", [d.attempt_id for d in take], skipped)


def lock(session: Session, session_id: int, attempt_id: int | None, actor: Any,
         reason: str) -> Result:
    """Lock the kiosk: it shows a lock screen, answers are refused; the clock runs on."""
    return _set_lock(session, session_id, attempt_id, actor, reason, True)


def unlock(session: Session, session_id: int, attempt_id: int | None, actor: Any,
           reason: str) -> Result:
    return _set_lock(session, session_id, attempt_id, actor, reason, False)


def reset_login(session: Session, session_id: int, attempt_id: int, actor: Any,
                reason: str) -> Result:
    """Sign the candidate out (answers and time kept) to continue on another PC."""
    reason = _reason(reason)
    take, skipped = _targets(session, session_id, attempt_id, ("ready", "running", "paused"))
    done = [d.attempt_id for d in take
            if attempts.reset_login(session, d.attempt_id, actor, reason)]
    return Result("reset", done, skipped)


def force_submit(session: Session, session_id: int, attempt_id: int | None, actor: Any,
                 reason: str, now: datetime | None = None) -> Result:
    reason = _reason(reason)
    take, skipped = _targets(session, session_id, attempt_id, ("ready", "running", "paused"))
    done = [d.attempt_id for d in take
            if attempts.force_submit(session, d.attempt_id, actor, reason, now)]
    return Result("force_submit", done, skipped)


def reopen(session: Session, session_id: int, attempt_id: int, minutes: int, actor: Any,
           reason: str, now: datetime | None = None) -> Result:
    """Open a submitted attempt again for ``minutes`` from now. The candidate signs in
    again (a kiosk still connected is told at once) and goes on with every answer kept."""
    reason = _reason(reason)
    if minutes <= 0:
        raise ProctorError("invalid", "minutes")
    now = now or utcnow()
    take, skipped = _targets(session, session_id, attempt_id, ("submitted",))
    for d in take:
        deadline = now + timedelta(minutes=minutes)
        if d.started_at is None:
            d.started_at = now
            d.started_by = "proctor"
        # Kept as extra time, so that a later extension or pause starts from this deadline.
        d.extra_s = int((deadline - d.started_at).total_seconds()) - d.duration_s - d.paused_s
        d.deadline_at = deadline
        d.state = "running"
        d.submitted_at = None
        d.submitted_by = ""
        d.locked = False
        d.paused_at = None
        session.execute(Attempt.__table__.update().where(  # type: ignore[attr-defined]
            Attempt.id == d.attempt_id).values(status="in_progress"))
        emit_after_commit(session, "reopened", {"deadline": ms(deadline), "now": ms(now)},
                          d.attempt_id)
    _audit(session, "cbt.attempt.reopened", actor, [d.attempt_id for d in take], session_id,
           reason, minutes=minutes)
    changed(session, [d.attempt_id for d in take])
    return Result("reopen", [d.attempt_id for d in take], skipped)


# -- words ----------------------------------------------------------------------------------


def message(session: Session, session_id: int, attempt_id: int | None, text: str,
            actor: Any, now: datetime | None = None) -> Result:
    """Show ``text`` on one candidate's kiosk, or on every kiosk of the room."""
    from plugins.cbt.delivery.push import emit_to_session

    text = (text or "").strip()[:MAX_MESSAGE]
    if not text:
        raise ProctorError("reason_required", "text")
    now = now or utcnow()
    payload = {"text": text, "at": ms(now), "to": "you" if attempt_id else "room"}
    if attempt_id is not None:
        take, skipped = _targets(session, session_id, attempt_id,
                                 ("ready", "running", "paused", "submitted"))
        for d in take:
            emit_after_commit(session, "message", payload, d.attempt_id)
        done = [d.attempt_id for d in take]
    else:
        emit_to_session(session, "message", payload, session_id)
        done, skipped = [], []
    audit(session, "cbt.session.message", actor=actor, object_type="cbt_sessions",
          object_id=session_id, details={"text": text, "attempt": attempt_id})
    return Result("message", done, skipped)


def incident(session: Session, session_id: int, attempt_id: int | None, category: str,
             text: str, actor: Any, now: datetime | None = None) -> Incident:
    """Write down what happened, for the minutes."""
    text = (text or "").strip()[:MAX_INCIDENT]
    if not text:
        raise ProctorError("reason_required", "text")
    if category not in CATEGORIES:
        raise ProctorError("invalid", "category")
    if attempt_id is not None:
        found = session.scalar(select(DeliveryAttempt.attempt_id).where(
            DeliveryAttempt.attempt_id == attempt_id, DeliveryAttempt.session_id == session_id))
        if found is None:
            raise ProctorError("not_found")
    row = Incident(session_id=session_id, attempt_id=attempt_id, category=category, text=text,
                   at=now or utcnow(), by_user_id=getattr(actor, "id", None),
                   by_name=str(getattr(actor, "name", "") or getattr(actor, "username", "")))
    session.add(row)
    session.flush()
    audit(session, "cbt.session.incident", actor=actor, object_type="cbt_sessions",
          object_id=session_id, details={"incident": row.id, "category": category,
                                         "attempt": attempt_id, "text": text[:300]})
    return row


def incidents(session: Session, session_id: int) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.session_id == session_id)
                                .order_by(Incident.at, Incident.id)))


def act(session: Session, session_id: int, action: str, actor: Any, *, attempt_id: int | None,
        reason: str = "", minutes: int = 0, text: str = "", category: str = "other",
        now: datetime | None = None) -> Result:
    """One entry for the views and sockets: run ``action`` on ``attempt_id`` (None: all)."""
    one = ("admit", "refuse", "reset", "reopen")
    if action in one and attempt_id is None:
        raise ProctorError("invalid", "attempt")
    if action == "admit":
        return admit(session, session_id, attempt_id or 0, actor, reason, now)
    if action == "refuse":
        return refuse(session, session_id, attempt_id or 0, actor, reason)
    if action == "extend":
        return extend(session, session_id, attempt_id, minutes, actor, reason)
    if action == "pause":
        return pause(session, session_id, attempt_id, actor, reason, now)
    if action == "resume":
        return resume(session, session_id, attempt_id, actor, reason, now)
    if action == "lock":
        return lock(session, session_id, attempt_id, actor, reason)
    if action == "unlock":
        return unlock(session, session_id, attempt_id, actor, reason)
    if action == "reset":
        return reset_login(session, session_id, attempt_id or 0, actor, reason)
    if action == "force_submit":
        return force_submit(session, session_id, attempt_id, actor, reason, now)
    if action == "reopen":
        return reopen(session, session_id, attempt_id or 0, minutes, actor, reason, now)
    if action == "message":
        return message(session, session_id, attempt_id, text or reason, actor, now)
    if action == "incident":
        row = incident(session, session_id, attempt_id, category, text or reason, actor, now)
        return Result("incident", [row.id], [])
    raise ProctorError("invalid", "action")
