"""Telling kiosks: Socket.IO events to one attempt's connection, sent after the commit.

Every kiosk connection of an attempt joins :func:`attempt_room` on :data:`NAMESPACE`, so
an event reaches the candidate's kiosk in whichever server process holds its socket (with
``RUANG_MESSAGE_QUEUE`` between processes). What a change tells kiosks is sent once the
change has committed: a kiosk must never hear of a start or a submission that rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

NAMESPACE = "/exam"
_PENDING = "cbt.delivery.after_commit"


def attempt_room(attempt_id: int) -> str:
    return f"attempt:{attempt_id}"


def session_room(session_id: int) -> str:
    """Every kiosk connection of a session's candidates (for the proctor's messages)."""
    return f"exam-session:{session_id}"


def ms(value: datetime | None) -> int | None:
    """A time as the protocol carries it: milliseconds since the Unix epoch (UTC)."""
    return None if value is None else int(value.timestamp() * 1000)


def emit(event_name: str, data: Any, attempt_id: int) -> None:
    """Send now (call after the commit, or where nothing was written)."""
    from flask import has_app_context

    if not has_app_context():
        return
    from core.instance import ruang

    ruang().socketio.emit(event_name, data, to=attempt_room(attempt_id), namespace=NAMESPACE)


def after_commit(session: Session, fn: Callable[[], Any]) -> None:
    """Run ``fn`` when ``session`` commits; drop it if the session rolls back."""
    pending: list[Callable[[], Any]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = []
        session.info[_PENDING] = pending
        event.listen(session, "after_commit", _run)
        event.listen(session, "after_rollback", _drop)
    pending.append(fn)


def emit_after_commit(session: Session, event_name: str, data: Any, attempt_id: int) -> None:
    after_commit(session, lambda: emit(event_name, data, attempt_id))


def emit_to_session(session: Session, event_name: str, data: Any, session_id: int) -> None:
    """Send to every kiosk of a session once ``session`` commits."""
    def send() -> None:
        from flask import has_app_context

        if has_app_context():
            from core.instance import ruang

            ruang().socketio.emit(event_name, data, to=session_room(session_id),
                                  namespace=NAMESPACE)

    after_commit(session, send)


def changed(session: Session, attempt_ids: list[int]) -> None:
    """Tell the proctors' seat maps, once ``session`` commits, that these attempts changed."""
    ids = list(attempt_ids)
    if not ids:
        return

    def mark() -> None:
        from plugins.cbt.delivery.seatmap import mark_dirty

        mark_dirty(ids)

    after_commit(session, mark)


def _run(session: Session) -> None:
    todo = list(session.info.get(_PENDING) or [])
    session.info[_PENDING] = []
    for fn in todo:
        try:
            fn()
        except Exception:  # the kiosk learns the state from its next hello or time sync
            log.exception("could not notify a kiosk after commit")


def _drop(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending.clear()
