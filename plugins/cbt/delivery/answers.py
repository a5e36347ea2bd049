"""The answer path: check a change against the paper's shape, make it durable, acknowledge.

This is the hot path (a full campus sends a change every few seconds), so it does only:

1. a shape check in memory (:func:`check_value`: the item exists, the value has the type
   and the range the item accepts; nothing is decrypted, nothing read);
2. one guarded INSERT into ``cbt_answers``, which both stores the change and checks the
   attempt: the row goes in only while the attempt is running, the login is the current
   one and the deadline (plus :data:`~plugins.cbt.delivery.attempts.GRACE_S`) has not
   passed. A duplicate ``(attempt_id, seq)`` is ignored by the unique index. No audit
   entry, no other write;
3. the acknowledgement, only after the transaction has committed; the attempts written
   are marked for the proctors' seat map (a set in memory, sent in batches by
   :mod:`~plugins.cbt.delivery.seatmap`).

Group commit (:class:`GroupCommit`): changes that arrive while a transaction is being
written wait for it to finish and are then written together, in one transaction, by
whichever of them gets there first; the first of them yields once before it writes, so
that the handlers of changes that have already arrived queue theirs too (on green threads
a write never yields by itself). Under load one commit (and one trip through the write
lock SQLite needs) serves many kiosks; when the server is idle a change is written at
once, alone. On SQLite, with WAL and ``synchronous=NORMAL``, a committed transaction is
in the WAL file when the acknowledgement leaves: it survives the server process being
killed (not, without ``synchronous=FULL``, a power cut of the server itself).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, exists, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import Executable

from core.db import Database, UTCDateTime, utcnow
from plugins.cbt.delivery.attempts import GRACE_S
from plugins.cbt.delivery.models import Answer, DeliveryAttempt
from plugins.cbt.delivery.seatmap import mark_dirty

__all__ = ["MAX_ESSAY", "MAX_SHORT", "GroupCommit", "Pending", "check_value", "writer"]

log = logging.getLogger(__name__)

MAX_SHORT = 1000
MAX_NUMERIC = 100
MAX_ESSAY = 50_000
MAX_SEQ = 2**31 - 1


def check_value(shape: list[dict[str, Any]], position: int, value: Any) -> str | None:
    """Why ``value`` cannot be item ``position``'s answer, or ``None`` when it can."""
    if not 1 <= position <= len(shape):
        return f"the paper has no item {position}"
    entry = shape[position - 1]
    kind = entry.get("t")
    if value is None:
        return None
    if kind == "single":
        if type(value) is not int or not 0 <= value < entry.get("o", 0):
            return "a single-choice answer is the number of one option"
    elif kind == "multiple":
        n = entry.get("o", 0)
        if not isinstance(value, list) or any(type(v) is not int or not 0 <= v < n
                                              for v in value) or len(set(value)) != len(value):
            return "a multiple-response answer is a list of distinct option numbers"
    elif kind == "truefalse":
        if type(value) is not bool:
            return "a true/false answer is true or false"
    elif kind in ("short", "numeric", "essay"):
        limit = {"short": MAX_SHORT, "numeric": MAX_NUMERIC, "essay": MAX_ESSAY}[kind]
        if not isinstance(value, str) or len(value) > limit:
            return f"a {kind} answer is text of at most {limit} characters"
    elif kind == "matching":
        n_answers = entry.get("a", 0)
        if not isinstance(value, list) or len(value) != entry.get("p", 0) or any(
                v is not None and (type(v) is not int or not 0 <= v < n_answers) for v in value):
            return "a matching answer lists, for each prompt, an answer number or null"
    else:
        return f"item {position} does not take answers"
    return None


@dataclass
class Pending:
    """One change waiting to be written; ``result`` is the acknowledgement's content."""

    attempt_id: int
    seq: int
    position: int
    value: Any
    flagged: bool
    login_hash: str
    result: dict[str, Any] | None = None
    done: bool = field(default=False)


_COLUMNS = ["attempt_id", "seq", "position", "value", "flagged", "at"]


def _insert(dialect: str) -> Executable:
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    guard = exists().where(
        DeliveryAttempt.attempt_id == bindparam("ga", type_=Integer),
        DeliveryAttempt.state == "running",
        DeliveryAttempt.locked.is_(False),
        DeliveryAttempt.login_hash == bindparam("h", type_=String),
        DeliveryAttempt.deadline_at > bindparam("cutoff", type_=UTCDateTime()),
    )
    rows = select(
        bindparam("a", type_=Integer), bindparam("s", type_=Integer),
        bindparam("q", type_=Integer), bindparam("v", type_=JSON),
        bindparam("f", type_=Boolean), bindparam("at", type_=UTCDateTime()),
    ).where(guard)
    # SQLAlchemy reads an INSERT's row count only when asked; without it psycopg reports
    # -1 and every first answer on PostgreSQL would look like a re-send.
    stmt: Executable = insert(Answer).from_select(_COLUMNS, rows).on_conflict_do_nothing(
        index_elements=["attempt_id", "seq"]).execution_options(preserve_rowcount=True)
    return stmt


def _why_not(conn: Connection, p: Pending, now: datetime) -> dict[str, Any]:
    """The rare path: the guarded insert wrote nothing. A duplicate, or a refusal?"""
    dup = conn.execute(select(Answer.id).where(
        Answer.attempt_id == p.attempt_id, Answer.seq == p.seq)).first()
    if dup is not None:
        return {"ok": True, "s": p.seq, "dup": True}
    row = conn.execute(select(DeliveryAttempt.state, DeliveryAttempt.login_hash,
                              DeliveryAttempt.deadline_at, DeliveryAttempt.locked)
                       .where(DeliveryAttempt.attempt_id == p.attempt_id)).first()
    if row is None or row.login_hash != p.login_hash:
        code = "logged_out"
    elif row.state == "submitted":
        code = "submitted"
    elif row.state == "paused":
        code = "paused"
    elif row.locked:
        code = "locked"
    elif row.state != "running":
        code = "not_running"
    else:
        code = "late"
    return {"ok": False, "s": p.seq, "error": code}


class GroupCommit:
    """Writes :class:`Pending` changes in shared transactions (see the module's docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cv = threading.Condition()
        self._queue: list[Pending] = []
        self._busy = False
        self._stmt: Executable | None = None
        self.batches = 0
        self.written = 0

    def submit(self, p: Pending, timeout: float = 30.0) -> dict[str, Any]:
        """Queue ``p`` and return once it is written (or refused); blocks only this caller."""
        with self._cv:
            self._queue.append(p)
            while not p.done:
                if not self._busy:
                    self._busy = True
                    self._cv.release()
                    # Under gevent or eventlet a write never yields, so without this the
                    # handlers of changes that have already arrived would each find the
                    # writer idle and commit alone. One yield lets them queue first.
                    time.sleep(0)
                    self._cv.acquire()
                    batch, self._queue = self._queue, []
                    self._cv.release()
                    try:
                        self._write(batch)
                    finally:
                        self._cv.acquire()
                        self._busy = False
                        for item in batch:
                            item.done = True
                        self._cv.notify_all()
                elif not self._cv.wait(timeout) and p in self._queue:
                    # A writer that never comes back: answer "try again", and keep the
                    # change out of a batch that may still be written.
                    self._queue.remove(p)
                    return {"ok": False, "s": p.seq, "error": "unavailable"}
        assert p.result is not None
        return p.result

    def _statement(self) -> Executable:
        if self._stmt is None:
            engine = self.db.engine
            assert engine is not None
            self._stmt = _insert(engine.dialect.name)
        return self._stmt

    def _params(self, p: Pending, now: datetime) -> dict[str, Any]:
        return {"ga": p.attempt_id, "h": p.login_hash, "cutoff": now - timedelta(seconds=GRACE_S),
                "a": p.attempt_id, "s": p.seq, "q": p.position, "v": p.value,
                "f": p.flagged, "at": now}

    def _write(self, batch: list[Pending]) -> None:
        stmt = self._statement()
        now = utcnow()
        try:
            with self.db.transaction() as s:
                conn = s.connection()
                results = []
                for p in batch:
                    n = conn.execute(stmt, self._params(p, now)).rowcount
                    results.append({"ok": True, "s": p.seq} if n == 1 else _why_not(conn, p, now))
            for p, result in zip(batch, results, strict=True):
                p.result = result
            self.batches += 1
            self.written += len(batch)
            mark_dirty({p.attempt_id for p, r in zip(batch, results, strict=True)
                        if r.get("ok") and not r.get("dup")})
        except SQLAlchemyError:
            if len(batch) == 1:
                log.exception("an answer could not be stored")
                batch[0].result = {"ok": False, "s": batch[0].seq, "error": "unavailable"}
                return
            # One bad change must not cost the others theirs: write them one by one.
            log.warning("a batch of %d answers failed; writing them one by one", len(batch))
            for p in batch:
                self._write([p])


# One writer per database (tests run many instances in one process).
_writers: weakref.WeakKeyDictionary[Database, GroupCommit] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer(db: Database) -> GroupCommit:
    with _writers_lock:
        found = _writers.get(db)
        if found is None:
            found = _writers[db] = GroupCommit(db)
        return found
