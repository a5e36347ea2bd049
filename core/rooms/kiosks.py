"""Kiosks: lab PCs' browsers, enrolled to a seat, and whether they are online.

Enrolment: staff open a lab's enrolment page, which shows a short code (:func:`new_code`);
a lab PC opens ``/kiosk``, types the code, picks its seat, and receives a long random token
(:func:`enrol`), returned once and kept by the kiosk. Only the token's SHA-256 is stored.
Other plugins identify a kiosk with :func:`authenticate_token` (the CBT plugin does so on
its socket namespace) or :func:`kiosk_from_request` (cookie or header on HTTP).

Heartbeats (:func:`heartbeat`) are the hot path: every kiosk of every lab sends one every
few seconds, so a heartbeat costs no database access once the kiosk is known valid; the
times are kept in memory and written for all kiosks at once every :data:`FLUSH_EVERY`
seconds (:func:`flush_seen`). A kiosk is online while it was heard from within
:data:`ONLINE_WINDOW` (:func:`is_online`).

Socket.IO rooms on namespace :data:`NAMESPACE`: every connected kiosk joins
``kiosk_room(kiosk.id)`` and ``lab_room(lab.id)``, so a plugin can reach one PC or a whole
lab (see :func:`open_page` and :func:`emit_to_kiosks`).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import math
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, event, func, select, update
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import Database, utcnow
from core.rooms.models import EnrolmentCode, EnrolmentFailure, Kiosk, Lab, Seat
from core.rooms.service import _t

__all__ = [
    "CODE_ALPHABET", "CODE_LENGTH", "CODE_TTL", "FLUSH_EVERY", "NAMESPACE", "ONLINE_WINDOW",
    "TOKEN_COOKIE", "TOKEN_HEADER", "Enrolment", "EnrolmentRefused", "authenticate_token",
    "check_code", "current_code", "emit_to_kiosks", "end_code", "enrol", "flush_seen", "heartbeat",
    "is_online", "kiosk_from_request", "kiosk_place", "kiosk_room", "kiosks_of_lab",
    "lab_room", "new_code", "normalise_code", "open_page", "revoke",
]

log = logging.getLogger(__name__)

# No I/1, O/0: a code is read off a projector and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_TTL = timedelta(minutes=15)
ONLINE_WINDOW = timedelta(seconds=30)
# Heartbeats are written to last_seen_at in one statement per round, this often: staff
# served by another process see a kiosk come online this much later, well inside the window.
FLUSH_EVERY = 3.0
_IDLE_ROUNDS = 20  # rounds without heartbeats before the writer task ends
# Wrong codes per address before enrolment from there pauses. 32^6 codes and a 15-minute
# life make guessing hopeless at this rate, and a lab full of PCs mistyping stays well under.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)
NAMESPACE = "/kiosk"
TOKEN_COOKIE = "ruang_kiosk"  # noqa: S105 - a cookie name, not a secret
TOKEN_HEADER = "X-Kiosk-Token"  # noqa: S105 - a header name
TOKEN_MAX_LEN = 200


class EnrolmentRefused(Exception):
    """Enrolment refused; ``throttled`` and ``expired`` tell the kiosk what to show."""

    def __init__(self, message: str, *, throttled: bool = False, retry_after_s: int = 0,
                 expired: bool = False, field: str = "code") -> None:
        super().__init__(message)
        self.message = message
        self.throttled = throttled
        self.retry_after_s = retry_after_s
        self.expired = expired
        self.field = field


def kiosk_room(kiosk_id: int) -> str:
    return f"kiosk:{kiosk_id}"


def lab_room(lab_id: int) -> str:
    return f"lab:{lab_id}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- enrolment codes -----------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """What a person typed, as a code: capitals, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def new_code(session: Session, lab: Lab, actor: Any = None, now: datetime | None = None
             ) -> EnrolmentCode:
    """A fresh enrolment code for ``lab``, valid for :data:`CODE_TTL`. Earlier codes of the
    lab stop working, so only the code on the screen enrols."""
    from core.rooms.service import RoomError

    if not lab.active:
        raise RoomError(_t("Lab %(code)s is not in use (inactive).", code=lab.code))
    now = now or utcnow()
    day_ago = now - timedelta(days=1)
    session.execute(delete(EnrolmentCode).where(EnrolmentCode.expires_at < day_ago))
    session.execute(delete(EnrolmentFailure).where(EnrolmentFailure.at < day_ago))
    session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.lab_id == lab.id, EnrolmentCode.expires_at > now)
        .values(expires_at=now)
    )
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(EnrolmentCode.id).where(EnrolmentCode.code == code)) is None:
            break
    row = EnrolmentCode(code=code, lab_id=lab.id, created_by=getattr(actor, "id", None),
                        created_at=now, expires_at=now + CODE_TTL, uses=0)
    session.add(row)
    session.flush()
    audit(session, "kiosk.code", actor=actor, object_type="lab", object_id=lab.id,
          details={"code_id": row.id, "expires_at": row.expires_at.isoformat()})
    return row


def current_code(session: Session, lab_id: int, now: datetime | None = None
                 ) -> EnrolmentCode | None:
    """The lab's code that still works, if any."""
    now = now or utcnow()
    return session.scalar(
        select(EnrolmentCode)
        .where(EnrolmentCode.lab_id == lab_id, EnrolmentCode.expires_at > now)
        .order_by(EnrolmentCode.expires_at.desc())
        .limit(1)
    )


def end_code(session: Session, code: EnrolmentCode, actor: Any = None) -> None:
    """Stop a code now (staff are done enrolling)."""
    now = utcnow()
    if code.expires_at > now:
        code.expires_at = now
        session.flush()
        audit(session, "kiosk.code_end", actor=actor, object_type="lab", object_id=code.lab_id,
              details={"code_id": code.id, "uses": code.uses})


def check_code(session: Session, code: str, ip: str, now: datetime | None = None
               ) -> EnrolmentCode:
    """The enrolment code ``code`` typed from address ``ip``, or :class:`EnrolmentRefused`.

    A wrong code is counted against the address (inside ``session``: the caller commits
    even when this raises); past :data:`MAX_FAILURES` within :data:`FAILURE_WINDOW` the
    address is refused without looking the code up.
    """
    now = now or utcnow()
    key = f"ip:{ip}"[:100]
    since = now - FAILURE_WINDOW
    count, oldest = session.execute(
        select(func.count(), func.min(EnrolmentFailure.at))
        .where(EnrolmentFailure.key == key, EnrolmentFailure.at >= since)
    ).one()
    if count >= MAX_FAILURES:
        retry = max(int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1, 1)
        raise EnrolmentRefused(
            _t("Too many wrong codes from this computer. Try again in %(n)s minute(s).",
               n=max(math.ceil(retry / 60), 1)),
            throttled=True, retry_after_s=retry)
    typed = normalise_code(code)
    row = None
    if len(typed) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in typed):
        row = session.scalar(select(EnrolmentCode).where(EnrolmentCode.code == typed))
    if row is None:
        session.add(EnrolmentFailure(key=key, at=now))
        session.flush()
        audit(session, "kiosk.enrol_failed", object_type="kiosk", object_id="",
              details={"reason": "wrong code"}, ip=ip)
        raise EnrolmentRefused(_t("That code is not valid. Check the code on the screen."))
    if row.expires_at <= now:
        raise EnrolmentRefused(
            _t("That code has expired. Ask the staff to show a new code."), expired=True)
    lab = session.get(Lab, row.lab_id)
    if lab is None or not lab.active:
        raise EnrolmentRefused(_t("This lab is not in use."))
    return row


# -- enrolling and revoking ----------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """A kiosk just enrolled. ``token`` is the only copy of the credential: hand it over."""

    kiosk: Kiosk
    token: str
    lab: Lab
    seat: Seat
    replaced: tuple[int, ...] = ()


def enrol(
    session: Session,
    code: str,
    *,
    seat_id: int | None = None,
    seat_label: str | None = None,
    ip: str = "",
    user_agent: str = "",
    name: str = "",
    now: datetime | None = None,
) -> Enrolment:
    """Bind this browser to a seat of the code's lab; a kiosk already at that seat is
    revoked. Raises :class:`EnrolmentRefused` (commit ``session`` anyway: wrong codes are
    counted in it)."""
    now = now or utcnow()
    ec = check_code(session, code, ip, now)
    lab = session.get(Lab, ec.lab_id)
    assert lab is not None  # check_code made sure
    seat: Seat | None = None
    if seat_id is not None:
        seat = session.get(Seat, seat_id)
        if seat is not None and seat.lab_id != lab.id:
            seat = None
    elif seat_label:
        seat = session.scalar(select(Seat).where(
            Seat.lab_id == lab.id, Seat.label == seat_label.strip().upper()))
    if seat is None or seat.row > lab.rows or seat.col > lab.cols:
        shown = seat_label or (str(seat_id) if seat_id is not None else "")
        raise EnrolmentRefused(_t("Lab %(lab)s has no seat %(seat)s.", lab=lab.code, seat=shown),
                               field="seat")
    if not seat.active:
        raise EnrolmentRefused(_t("Seat %(seat)s is not in use.", seat=seat.label), field="seat")
    name = (name or "").strip()[:100] or f"{lab.code} {seat.label}"
    replaced: list[int] = []
    for old in session.scalars(
        select(Kiosk).where(Kiosk.seat_id == seat.id, Kiosk.revoked_at.is_(None))
    ):
        _revoke(session, old, actor=None, reason="re-enrolled", ip=ip, now=now)
        replaced.append(old.id)
    token = secrets.token_urlsafe(32)
    kiosk = Kiosk(seat_id=seat.id, token_hash=_hash(token), name=name, enrolled_at=now,
                  enrolled_by=ec.created_by, last_seen_at=now, last_ip=ip[:64],
                  user_agent=user_agent[:300])
    session.add(kiosk)
    ec.uses += 1
    session.flush()
    audit(session, "kiosk.enrol", object_type="kiosk", object_id=kiosk.id, ip=ip,
          details={"lab": lab.code, "seat": seat.label, "code_id": ec.id,
                   "replaced": replaced, "name": name})
    return Enrolment(kiosk, token, lab, seat, tuple(replaced))


def _revoke(session: Session, kiosk: Kiosk, *, actor: Any, reason: str, ip: str | None = None,
            now: datetime | None = None) -> None:
    kiosk.revoked_at = now or utcnow()
    kiosk.revoked_by = getattr(actor, "id", None)
    session.flush()
    audit(session, "kiosk.revoke", actor=actor, object_type="kiosk", object_id=kiosk.id,
          details={"seat_id": kiosk.seat_id, "reason": reason}, ip=ip)
    kiosk_id = kiosk.id
    _forget(kiosk_id)
    # Tell the PC after the commit: if the change rolls back, the kiosk must not hear it.
    emit = _emitter()
    if emit is not None:
        _after_commit(session, lambda: emit("revoked", {"reason": reason},
                                            to=kiosk_room(kiosk_id), namespace=NAMESPACE))


def revoke(session: Session, kiosk: Kiosk, actor: Any = None, reason: str = "") -> bool:
    """Withdraw a kiosk's credential (staff's action); returns whether it was still valid.
    The PC is told at once over Socket.IO and goes back to the enrolment screen."""
    if kiosk.revoked_at is not None:
        return False
    _revoke(session, kiosk, actor=actor, reason=reason.strip()[:300] or "revoked by staff")
    return True


# -- who is this kiosk ---------------------------------------------------------------------


def authenticate_token(session: Session, token: str | None) -> Kiosk | None:
    """The kiosk holding ``token``, or ``None`` when the token is unknown or revoked."""
    if not token or len(token) > TOKEN_MAX_LEN:
        return None
    return session.scalar(
        select(Kiosk).where(Kiosk.token_hash == _hash(token), Kiosk.revoked_at.is_(None))
    )


def token_from_request() -> str:
    """The kiosk token of the current HTTP request: the header first, then the cookie."""
    from flask import request

    return (request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE) or "").strip()


def kiosk_from_request(session: Session) -> Kiosk | None:
    """The kiosk making the current HTTP request (header ``X-Kiosk-Token`` or the cookie)."""
    return authenticate_token(session, token_from_request())


def kiosk_place(session: Session, kiosk: Kiosk) -> tuple[Lab, Seat]:
    """The lab and seat a kiosk is enrolled to (one query: every reconnecting kiosk asks)."""
    lab, seat = session.execute(
        select(Lab, Seat).join(Seat, Seat.lab_id == Lab.id).where(Seat.id == kiosk.seat_id)
    ).one()  # foreign keys: both exist
    return lab, seat


def kiosks_of_lab(session: Session, lab_id: int, *, include_revoked: bool = False
                  ) -> list[tuple[Kiosk, Seat]]:
    """The lab's kiosks with their seats, row by row."""
    stmt = (
        select(Kiosk, Seat).join(Seat, Seat.id == Kiosk.seat_id).where(Seat.lab_id == lab_id)
        .order_by(Seat.row, Seat.col, Kiosk.enrolled_at.desc())
    )
    if not include_revoked:
        stmt = stmt.where(Kiosk.revoked_at.is_(None))
    return [(k, s) for k, s in session.execute(stmt).all()]


def is_online(kiosk: Kiosk, now: datetime | None = None) -> bool:
    """Whether the kiosk was heard from within :data:`ONLINE_WINDOW`.

    Heartbeats reach ``last_seen_at`` in batches (:func:`flush_seen`); inside an app
    context, those this process heard but has not written yet count too, so staff pages
    served here are exact and those of another process at most :data:`FLUSH_EVERY` late.
    """
    if kiosk.revoked_at is not None:
        return False
    seen = kiosk.last_seen_at
    unwritten = _unwritten_seen(kiosk.id)
    if unwritten is not None and (seen is None or unwritten > seen):
        seen = unwritten
    if seen is None:
        return False
    return (now or utcnow()) - seen <= ONLINE_WINDOW


# -- heartbeats: the hot path --------------------------------------------------------------
#
# Every connected kiosk says it is alive every 10-20 s; 2,000 kiosks writing their own row
# in their own write transaction took a third of the server's CPU. A heartbeat now only
# notes the time in memory; a background task (one per database and process) writes every
# kiosk heard since its last round in one executemany UPDATE every FLUSH_EVERY seconds,
# and in the same round asks which of them were revoked meanwhile (by another process;
# a revocation made here is known at once through _forget).


@dataclass
class _Heard:
    at: datetime
    ip: str
    user_agent: str


class _Seen:
    """One database's heartbeats in this process: kiosks known valid, times not written."""

    def __init__(self, db: Database) -> None:
        self.db = weakref.ref(db)
        self.lock = threading.Lock()
        self.valid: set[int] = set()
        self.pending: dict[int, _Heard] = {}
        self.flusher: threading.Thread | None = None

    def note(self, kiosk_id: int, at: datetime, ip: str, user_agent: str) -> None:
        with self.lock:
            old = self.pending.get(kiosk_id)
            self.pending[kiosk_id] = _Heard(
                at, ip or (old.ip if old else ""), user_agent or (old.user_agent if old else ""))
            if self.flusher is None:
                # A plain thread: under ``ruang serve`` (monkey-patched) it is a greenlet.
                self.flusher = threading.Thread(target=_flush_loop, args=(self,),
                                                name="kiosk-last-seen", daemon=True)
                self.flusher.start()

    def take(self) -> dict[int, _Heard]:
        with self.lock:
            taken, self.pending = self.pending, {}
            return taken

    def put_back(self, taken: dict[int, _Heard]) -> None:
        """A round that failed: keep what it held, unless a newer heartbeat came meanwhile."""
        with self.lock:
            for kiosk_id, heard in taken.items():
                self.pending.setdefault(kiosk_id, heard)

    def forget(self, kiosk_id: int) -> None:
        with self.lock:
            self.valid.discard(kiosk_id)
            self.pending.pop(kiosk_id, None)


# Per database (tests run many instances in one process).
_states: weakref.WeakKeyDictionary[Database, _Seen] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(db: Database) -> _Seen:
    found = _states.get(db)
    if found is None:
        with _states_lock:
            found = _states.get(db)
            if found is None:
                found = _states[db] = _Seen(db)
    return found


def _forget(kiosk_id: int) -> None:
    for state in list(_states.values()):
        state.forget(kiosk_id)


def _unwritten_seen(kiosk_id: int) -> datetime | None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    db = current_app.extensions.get("ruang.db")
    state = _states.get(db) if db is not None else None
    if state is None:
        return None
    with state.lock:
        heard = state.pending.get(kiosk_id)
    return heard.at if heard is not None else None


_kiosks = cast(Table, Kiosk.__table__)
_FLUSH = (
    update(_kiosks)
    .where(_kiosks.c.id == bindparam("b_id"), _kiosks.c.revoked_at.is_(None))
    .values(
        last_seen_at=bindparam("b_at", type_=_kiosks.c.last_seen_at.type),
        # An empty address or agent (a heartbeat that did not say) keeps the stored one.
        last_ip=func.coalesce(func.nullif(bindparam("b_ip"), ""), _kiosks.c.last_ip),
        user_agent=func.coalesce(func.nullif(bindparam("b_ua"), ""), _kiosks.c.user_agent),
    )
)
_CHUNK = 500  # ids per IN (...) when checking for revocations


def flush_seen(db: Database) -> int:
    """Write the heartbeats heard since the last round to ``last_seen_at`` (one UPDATE for
    all kiosks) and forget kiosks revoked meanwhile; returns how many kiosks were written.
    Runs by itself every :data:`FLUSH_EVERY` seconds and at exit; tests call it directly."""
    state = _states.get(db)
    if state is None:
        return 0
    taken = state.take()
    if not taken:
        return 0
    ids = sorted(taken)
    try:
        with db.transaction() as session:
            session.execute(_FLUSH, [
                {"b_id": k, "b_at": taken[k].at, "b_ip": taken[k].ip[:64],
                 "b_ua": taken[k].user_agent[:300]} for k in ids])
            still: set[int] = set()
            for i in range(0, len(ids), _CHUNK):
                part = ids[i:i + _CHUNK]
                still.update(session.scalars(select(Kiosk.id).where(
                    Kiosk.id.in_(part), Kiosk.revoked_at.is_(None))))
    except Exception:
        state.put_back(taken)
        raise
    gone = set(ids) - still
    if gone:
        with state.lock:
            state.valid.difference_update(gone)
    return len(ids)


def _flush_loop(state: _Seen) -> None:
    idle_rounds = 0
    while True:
        time.sleep(FLUSH_EVERY)
        db = state.db()
        if db is None or db.closed:
            return
        try:
            written = flush_seen(db)
        except Exception:  # the database may be busy or away for a moment: next round
            log.exception("could not write the kiosks' last-seen times")
            written = 1
        del db
        idle_rounds = 0 if written else idle_rounds + 1
        if idle_rounds >= _IDLE_ROUNDS:
            with state.lock:
                if not state.pending:
                    state.flusher = None  # the next heartbeat starts a new one
                    return


@atexit.register
def _flush_at_exit() -> None:
    for db in list(_states.keys()):
        if db.closed:
            continue
        try:
            flush_seen(db)
        except Exception:  # the process is ending; nothing else to do with it
            log.exception("could not write the kiosks' last-seen times at exit")


def heartbeat(db: Database, kiosk_id: int, *, ip: str = "", user_agent: str = "",
              check: bool = False) -> bool:
    """Note that kiosk ``kiosk_id`` is alive; ``False`` when it is unknown or revoked.

    ``check`` forces a database read (on connect); otherwise a kiosk already known valid
    costs a dictionary update, and its ``last_seen_at`` (with the address and browser, when
    given) is written with every other kiosk's within :data:`FLUSH_EVERY` seconds. A
    revocation made in another process is noticed at the next write; the kiosk is also
    told at once over Socket.IO.
    """
    state = _state(db)
    if check or kiosk_id not in state.valid:
        with db.session() as session:
            revoked = session.execute(
                select(Kiosk.revoked_at).where(Kiosk.id == kiosk_id)).first()
        if revoked is None or revoked.revoked_at is not None:
            state.forget(kiosk_id)
            return False
        with state.lock:
            state.valid.add(kiosk_id)
    state.note(kiosk_id, utcnow(), ip[:64], user_agent[:300])
    return True


# -- talking to kiosks ---------------------------------------------------------------------


def _emitter() -> Callable[..., Any] | None:
    from flask import has_app_context

    if not has_app_context():
        return None
    from core.instance import ruang

    emit: Callable[..., Any] = ruang().socketio.emit
    return emit


_PENDING = "rooms.after_commit"


def _after_commit(session: Session, fn: Callable[[], Any]) -> None:
    pending: list[Callable[[], Any]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = []
        session.info[_PENDING] = pending
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append(fn)


def _run_pending(session: Session) -> None:
    pending = session.info.get(_PENDING) or []
    todo = list(pending)
    pending.clear()
    for fn in todo:
        try:
            fn()
        except Exception:  # a kiosk we cannot reach now learns it on its next heartbeat
            log.exception("could not notify kiosks after commit")


def _drop_pending(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending.clear()


def emit_to_kiosks(event_name: str, data: Any, *, lab_id: int | None = None,
                   kiosk_id: int | None = None, session: Session | None = None) -> None:
    """Send ``event_name`` to one kiosk or to every kiosk of a lab on :data:`NAMESPACE`;
    with ``session``, only once that session commits."""
    if (lab_id is None) == (kiosk_id is None):
        raise ValueError("give exactly one of lab_id and kiosk_id")
    room = kiosk_room(kiosk_id) if kiosk_id is not None else lab_room(lab_id or 0)
    emit = _emitter()
    if emit is None:
        raise RuntimeError("emit_to_kiosks needs an app context")

    def send() -> None:
        emit(event_name, data, to=room, namespace=NAMESPACE)

    if session is not None:
        _after_commit(session, send)
    else:
        send()


def open_page(path: str, *, lab_id: int | None = None, kiosk_id: int | None = None,
              session: Session | None = None) -> None:
    """Make kiosks open ``path`` of this server (the CBT plugin sends them to the exam).

    Only a local path is accepted, so a kiosk can never be sent to another site.
    """
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise ValueError(f"open_page takes a path on this server, like /cbt/kiosk; got {path!r}")
    emit_to_kiosks("open", {"path": path}, lab_id=lab_id, kiosk_id=kiosk_id, session=session)
