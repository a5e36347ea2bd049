"""The proctor's live seat map: one compact row per candidate, computed in a few queries.

:func:`seats` builds the rows of a session (or of some attempts of it) with aggregate SQL:
the answered and flagged counts come from the latest change per item (``MAX(seq)``
grouped by attempt and item, joined back to the answer log, summed per attempt), the
warnings from ``SUM(count)`` of integrity events per attempt and kind. No answer row is
loaded into Python, so a room of a thousand candidates costs the same handful of queries
as a room of three.

Live updates (:class:`Flusher`): whatever changes a seat (an answer committed, an
integrity signal, a connect, a proctor's action) calls :func:`mark_dirty` with the
attempt. Each server process keeps its dirty set and a background task that, every
:data:`FLUSH_S`, recomputes only the dirty attempts (one pass of the queries above) and
emits one ``seats`` message per session to the Socket.IO room ``proctor:session:<id>``
of :data:`NAMESPACE`, through the message queue when there is one, so proctors connected
to any process hear it. A candidate typing sends many changes a second; the proctor gets
at most one small message per session per :data:`FLUSH_S`.

Row keys (kept short: a thousand rows go out in the snapshot)::

    c   candidate id (the row's key)     n   participant number   nm  name
    a   attempt id (null: absent)        st  seat label (the kiosk's, else the assigned one)
    s   state: absent | signed_out | ready | running | paused | submitted
    lk  locked (bool)                    late  waiting for the proctor's admission (bool)
    ad  admission: "" | admitted | refused
    on  a kiosk socket is connected      hb  last heartbeat of the kiosk (ms)
    q   answered  f  flagged  t  items   dl  deadline (ms)   pa  paused since (ms)
    w   warnings {focus_lost, fullscreen_exit, reload, seb_failed, other}
    by  who submitted (candidate | deadline | proctor)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.rooms.models import Kiosk, Seat
from plugins.cbt.delivery.models import Answer, DeliveryAttempt, IntegrityEvent
from plugins.cbt.delivery.push import ms
from plugins.cbt.models import Candidate

__all__ = ["FLUSH_S", "LATE_AFTER", "NAMESPACE", "WARNINGS", "Flusher", "mark_dirty", "note_online",
           "proctor_room", "seats", "seats_by_session", "snapshot"]

log = logging.getLogger(__name__)

NAMESPACE = "/proctor"
FLUSH_S = 0.5
PRESENCE_CHUNK = 500  # attempts per UPDATE: well under both engines' bound-parameter limits
IDLE_EXIT_S = 60.0
LATE_AFTER = timedelta(minutes=15)
"""A candidate who has not started this long after the exam began in the room needs the
proctor's admission to start (see :func:`is_late` and ``proctor.admit``)."""
WARNINGS = ("focus_lost", "fullscreen_exit", "reload", "seb_failed")


def proctor_room(session_id: int) -> str:
    return f"proctor:session:{session_id}"


def _answered_expr() -> Any:
    """Whether the JSON text of an answer holds an answer (no choice, "", [] and a list of
    nulls do not), in SQL both SQLite and PostgreSQL run."""
    text = func.replace(func.coalesce(cast(Answer.value, String), "null"), " ", "")
    first = func.substr(text, 1, 1)
    stripped = func.replace(func.replace(text, "null", ""), ",", "")
    return case(
        (first == '"', case((text == '""', 0), else_=1)),
        (first == "[", case((stripped == "[]", 0), else_=1)),
        (text == "null", 0),
        else_=1,
    )


def counts(session: Session, attempt_ids: Iterable[int] | None = None,
           session_id: int | None = None) -> dict[int, tuple[int, int]]:
    """attempt id -> (answered, flagged), from the latest change of each item."""
    latest = select(Answer.attempt_id.label("aid"), Answer.position.label("pos"),
                    func.max(Answer.seq).label("seq")).group_by(Answer.attempt_id,
                                                               Answer.position)
    if attempt_ids is not None:
        attempt_ids = list(attempt_ids)
        latest = latest.where(Answer.attempt_id.in_(attempt_ids))
    if session_id is not None:
        latest = latest.where(Answer.attempt_id.in_(
            select(DeliveryAttempt.attempt_id).where(DeliveryAttempt.session_id == session_id)))
    m = latest.subquery()
    q = (select(Answer.attempt_id, func.sum(_answered_expr()),
                func.sum(case((Answer.flagged.is_(True), 1), else_=0)))
         .join(m, and_(Answer.attempt_id == m.c.aid, Answer.seq == m.c.seq))
         .group_by(Answer.attempt_id))
    if attempt_ids is not None:
        # Said again on the outer query, so that the planner reads only these attempts'
        # rows (by the (attempt_id, seq) index) instead of the whole log.
        q = q.where(Answer.attempt_id.in_(list(attempt_ids)))
    rows = session.execute(q)
    return {int(a): (int(q or 0), int(f or 0)) for a, q, f in rows}


def warnings(session: Session, attempt_ids: Iterable[int] | None = None,
             session_id: int | None = None) -> dict[int, dict[str, int]]:
    q = select(IntegrityEvent.attempt_id, IntegrityEvent.kind,
               func.sum(IntegrityEvent.count)).group_by(IntegrityEvent.attempt_id,
                                                        IntegrityEvent.kind)
    if attempt_ids is not None:
        q = q.where(IntegrityEvent.attempt_id.in_(list(attempt_ids)))
    if session_id is not None:
        q = q.where(IntegrityEvent.attempt_id.in_(
            select(DeliveryAttempt.attempt_id).where(DeliveryAttempt.session_id == session_id)))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for aid, kind, n in session.execute(q):
        key = kind if kind in WARNINGS else "other"
        out[int(aid)][key] = out[int(aid)].get(key, 0) + int(n or 0)
    return out


def room_started_at(session: Session, session_id: int) -> datetime | None:
    """When the exam began in the room: the proctor's start, else the first token start."""
    from plugins.cbt.delivery.models import SessionStart

    found = session.scalar(select(SessionStart.started_at).where(
        SessionStart.session_id == session_id))
    if found is not None:
        return found
    first: datetime | None = session.scalar(select(func.min(DeliveryAttempt.started_at)).where(
        DeliveryAttempt.session_id == session_id))
    return first


def is_late(state: str, admission: str, room_start: datetime | None, now: datetime) -> bool:
    """Whether a candidate who has not started needs the proctor's admission to start:
    the exam began in the room more than :data:`LATE_AFTER` ago."""
    return (state in ("ready", "signed_out") and admission != "admitted"
            and room_start is not None and now > room_start + LATE_AFTER)


def seats(session: Session, session_id: int, attempt_ids: Iterable[int] | None = None,
          now: datetime | None = None) -> list[dict[str, Any]]:
    """The seat map's rows of ``session_id`` (only those of ``attempt_ids`` when given)."""
    ids = None if attempt_ids is None else sorted({int(a) for a in attempt_ids})
    if ids is not None and not ids:
        return []
    return [row for _sid, row in _rows(session, now or utcnow(), session_id=session_id,
                                       attempt_ids=ids)]


def seats_by_session(session: Session, attempt_ids: Iterable[int],
                     now: datetime | None = None) -> dict[int, list[dict[str, Any]]]:
    """The rows of ``attempt_ids``, whatever their sessions, grouped by session: one pass of
    the queries for all of them (a campus has fifty rooms writing at once; a pass per room
    cost the server a fifth of its time)."""
    ids = sorted({int(a) for a in attempt_ids})
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for sid, row in _rows(session, now or utcnow(), attempt_ids=ids):
            out[sid].append(row)
    return dict(out)


def _rows(session: Session, now: datetime, *, session_id: int | None = None,
          attempt_ids: list[int] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """``(session id, row)`` of a session's candidates, or of some attempts (any session)."""
    room_starts: dict[int, datetime | None] = {}  # read once per room, and only if needed

    def late(sid: int, state: str, admission: str) -> bool:
        if state not in ("ready", "signed_out") or admission == "admitted":
            return False
        if sid not in room_starts:
            room_starts[sid] = room_started_at(session, sid)
        return is_late(state, admission, room_starts[sid], now)

    da = DeliveryAttempt
    q = (select(Candidate.session_id, Candidate.id, Candidate.participant_number,
                Candidate.name, Candidate.seat,
                da.attempt_id, da.state, da.login_hash != "", da.locked, da.admission,
                da.online, da.deadline_at, da.paused_at, da.submitted_by,
                func.json_array_length(da.shape),
                Kiosk.last_seen_at, Seat.label)
         .outerjoin(da, da.candidate_id == Candidate.id)
         .outerjoin(Kiosk, Kiosk.id == da.kiosk_id)
         .outerjoin(Seat, Seat.id == Kiosk.seat_id))
    if session_id is not None:
        q = q.where(Candidate.session_id == session_id)
    if attempt_ids is not None:
        q = q.where(da.attempt_id.in_(attempt_ids))
    rows = list(session.execute(q.order_by(Candidate.seat, Candidate.participant_number)))
    if attempt_ids is None:
        answered = counts(session, session_id=session_id)
        warned = warnings(session, session_id=session_id)
    else:
        answered = counts(session, attempt_ids)
        warned = warnings(session, attempt_ids)
    out = []
    for (sid, cid, number, name, assigned, aid, state, signed, locked, admission, online,
         deadline, paused_at, by, total, seen, kiosk_seat) in rows:
        if aid is None:
            s = "absent"
        elif state == "submitted":
            s = "submitted"
        elif not signed:
            s = "signed_out"
        else:
            s = str(state)
        q_, f_ = answered.get(int(aid), (0, 0)) if aid is not None else (0, 0)
        out.append((int(sid or 0), {
            "c": int(cid), "n": number, "nm": name, "st": (kiosk_seat if signed else "")
            or assigned or "", "a": aid, "s": s, "lk": bool(locked),
            "late": late(int(sid or 0), s, admission or "") if aid is not None else False,
            "ad": admission or "", "on": bool(online) and bool(signed) and s != "submitted",
            "hb": ms(seen) if signed else None, "q": q_, "f": f_,
            "t": int(total or 0),
            "dl": ms(deadline), "pa": ms(paused_at),
            "w": warned.get(int(aid), {}) if aid is not None else {},
            "by": by or "",
        }))
    return out


def snapshot(session: Session, session_id: int, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {"session": session_id, "now": ms(now), "seats": seats(session, session_id, now=now)}


# -- live deltas ----------------------------------------------------------------------------


class Flusher:
    """The dirty attempts of one app in this process, and the task that sends them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.dirty: set[int] = set()
        self.presence: dict[int, bool] = {}  # attempt id -> a kiosk socket is connected
        self.lock = threading.Lock()
        self.started = False
        self.batches = 0

    def mark(self, attempt_ids: Iterable[int]) -> None:
        with self.lock:
            self.dirty.update(int(a) for a in attempt_ids)
            start = not self.started
            self.started = True
        if start:
            from core.instance import ruang

            ruang().socketio.start_background_task(self._run)

    def note_online(self, attempt_id: int, online: bool) -> None:
        """A kiosk socket of the attempt connected (or the last one went away)."""
        with self.lock:
            self.presence[int(attempt_id)] = online
        self.mark([attempt_id])

    def write_presence(self) -> int:
        """Write the connects and disconnects noted since the last round, in one transaction.

        A reconnect storm is two thousand disconnects and as many connects: written one
        transaction each they held the event loop for seconds, when a second write per
        flush does the same. Only the seat map reads ``online``.
        """
        with self.lock:
            taken, self.presence = self.presence, {}
        if not taken:
            return 0
        from sqlalchemy import update

        from core.instance import ruang

        try:
            with ruang().db.transaction() as s:
                for value in (True, False):
                    ids = sorted(a for a, v in taken.items() if v is value)
                    for i in range(0, len(ids), PRESENCE_CHUNK):
                        s.execute(update(DeliveryAttempt).where(
                            DeliveryAttempt.attempt_id.in_(ids[i:i + PRESENCE_CHUNK]),
                            DeliveryAttempt.online != value)
                            .values(online=value).execution_options(synchronize_session=False))
        except Exception:
            with self.lock:  # newer notes win over the ones put back
                self.presence = {**taken, **self.presence}
            raise
        return len(taken)

    def take(self) -> set[int]:
        with self.lock:
            taken, self.dirty = self.dirty, set()
        return taken

    def _run(self) -> None:
        with self.app.app_context():
            from core.instance import ruang

            socketio = ruang().socketio
            idle = 0.0
            pause = FLUSH_S
            while True:
                socketio.sleep(pause)
                if ruang().db.closed:  # the app is done (tests); nothing to write to
                    with self.lock:
                        self.started = False
                    return
                began = time.monotonic()
                try:
                    sent = self.flush()
                except Exception:  # a failed round must not end live updates for good
                    log.exception("could not send seat map updates")
                    sent = 1
                # A flush blocks this process's event loop while it reads (SQLite does not
                # yield): keep it to at most a third of the time, whatever the room's size.
                pause = max(FLUSH_S, 2 * (time.monotonic() - began))
                idle = 0.0 if sent else idle + pause
                if idle >= IDLE_EXIT_S:
                    with self.lock:  # the next mark() starts a new task
                        if not self.dirty:
                            self.started = False
                            return

    def flush(self) -> int:
        """Send the dirty attempts' rows, one message per session; returns messages sent."""
        self.write_presence()
        taken = self.take()
        if not taken:
            return 0
        from core.instance import ruang

        r = ruang()
        now = utcnow()
        with r.db.session() as s:
            messages = [(sid, rows) for sid, rows in seats_by_session(s, taken, now).items()
                        if sid]
        for sid, rows in messages:
            r.socketio.emit("seats", {"session": sid, "now": ms(now), "seats": rows},
                            to=proctor_room(sid), namespace=NAMESPACE)
        self.batches += len(messages)
        return len(messages)


_flushers_lock = threading.Lock()


def flusher(app: Flask | None = None) -> Flusher:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _flushers_lock:
        found: Flusher | None = app.extensions.get("cbt.seatmap")
        if found is None:
            found = app.extensions["cbt.seatmap"] = Flusher(app)
    return found


def note_online(attempt_id: int, online: bool) -> None:
    """For the seat map: whether a kiosk of the attempt is connected (to any process); written
    with the next batch of seat updates, within :data:`FLUSH_S`."""
    if not has_app_context():
        return
    flusher().note_online(attempt_id, online)


def mark_dirty(attempt_ids: Iterable[int]) -> None:
    """Note that these attempts' seats changed; proctors hear it within :data:`FLUSH_S`."""
    ids = [int(a) for a in attempt_ids]
    if not ids or not has_app_context():
        return
    try:
        flusher().mark(ids)
    except Exception:  # the seat map is a view: never fail the write that changed it
        log.exception("could not mark seats dirty")
